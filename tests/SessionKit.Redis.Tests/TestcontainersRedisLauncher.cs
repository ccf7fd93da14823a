using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;

namespace SessionKit.Tests;

/// <summary>
/// The container path of <see cref="RedisServerFixture"/>: Redis in a container started with Testcontainers through
/// the endpoint <see cref="DockerEndpointProbe"/> found. The image is <see cref="ImageVariable"/> (default
/// <see cref="DefaultImage"/>). By default the container's port 6379 is mapped to a random host port; with
/// <see cref="NetworkVariable"/><c>=host</c> the container shares the host's network and the server listens on the
/// free loopback port the fixture chose (podman on a machine where no other network may be used). Either way the
/// container is ready when it answers <c>PING</c> from this process.
/// </summary>
/// <remarks>
/// A plain <see cref="ContainerBuilder"/> rather than Testcontainers.Redis's <c>RedisBuilder</c>: the module binds
/// and waits on a mapped port, which host networking does not have, and one builder keeps both networks on the same
/// command line and readiness check.
/// </remarks>
public sealed class TestcontainersRedisLauncher : IRedisContainerLauncher
{
    /// <summary>The environment variable naming the image.</summary>
    public const string ImageVariable = "SESSIONKIT_TEST_REDIS_IMAGE";

    /// <summary>The environment variable choosing the network: <c>bridge</c> (a mapped port, the default) or <c>host</c>.</summary>
    public const string NetworkVariable = "SESSIONKIT_TEST_REDIS_CONTAINER_NETWORK";

    /// <summary>The image used when <see cref="ImageVariable"/> is unset.</summary>
    public const string DefaultImage = "redis:7";

    private const int ContainerPort = 6379;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ReadyInterval = TimeSpan.FromMilliseconds(50);
    private static readonly ConcurrentQueue<TimeSpan> Started = new();

    /// <summary>Gets the launcher, configured from the environment.</summary>
    public static TestcontainersRedisLauncher Instance { get; } = new();

    /// <summary>
    /// Gets how long each container this process started took, in order, from building its configuration to its
    /// first <c>PONG</c> (the first one includes Testcontainers' own start and first connection to the engine).
    /// </summary>
    public static IReadOnlyCollection<TimeSpan> StartTimes => Started;

    /// <inheritdoc />
    public IReadOnlyList<Uri> Candidates => DockerEndpointProbe.CandidatesFromEnvironment();

    /// <inheritdoc />
    public Task<Uri?> FindEndpointAsync(CancellationToken cancellationToken = default) =>
        DockerEndpointProbe.FindOnceAsync().WaitAsync(cancellationToken);

    /// <inheritdoc />
    public async Task<IRedisContainer> StartAsync(Uri endpoint, int freePort, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var started = Stopwatch.GetTimestamp();
        var image = Environment.GetEnvironmentVariable(ImageVariable) is { Length: > 0 } named ? named.Trim() : DefaultImage;
        var hostNetwork = ReadNetwork() == "host";
        var port = hostNetwork ? freePort : ContainerPort;
        var readiness = new AnswersPing(hostNetwork ? freePort : null);
        var builder = new ContainerBuilder(image)
            .WithDockerEndpoint(endpoint)
            .WithLabel("org.sessionkit.test", "redis")
            .WithCommand(
                "redis-server",
                "--port", port.ToString(CultureInfo.InvariantCulture),
                "--save", string.Empty,
                "--appendonly", "no",
                "--loglevel", "warning")
            .WithWaitStrategy(Wait.ForUnixContainer().AddCustomWaitStrategy(
                readiness,
                s => s.WithInterval(ReadyInterval).WithTimeout(ReadyTimeout)));
        builder = hostNetwork
            // Loopback only: the host's other interfaces never see the server; protected mode stays on.
            ? builder.WithCommand("--bind", "127.0.0.1", "--protected-mode", "yes")
                .WithCreateParameterModifier(p => p.HostConfig!.NetworkMode = "host")
            // Connections arrive through the engine's port forwarding, from outside the container's loopback.
            : builder.WithCommand("--protected-mode", "no").WithPortBinding(ContainerPort, assignRandomHostPort: true);

        var container = builder.Build();
        try
        {
            await container.StartAsync(cancellationToken);
        }
        catch
        {
            await container.DisposeAsync();
            throw;
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        Started.Enqueue(elapsed);
        var (host, publicPort) = readiness.Target(container);
        var description = string.Create(
            CultureInfo.InvariantCulture,
            $"container {image} through {endpoint}, {(hostNetwork ? "host network" : "mapped port")}, {host}:{publicPort}, started in {elapsed.TotalSeconds:0.00} s");
        return new Running(container, host, publicPort, description);
    }

    private static string ReadNetwork()
    {
        var value = Environment.GetEnvironmentVariable(NetworkVariable)?.Trim().ToUpperInvariant();
        return value switch
        {
            null or "" or "BRIDGE" => "bridge",
            "HOST" => "host",
            _ => throw new InvalidOperationException($"{NetworkVariable} must be bridge or host, not '{value}'."),
        };
    }

    // Ready when the server answers PING from this process: on the fixture's port (host network) or the mapped one.
    private sealed class AnswersPing(int? hostPort) : IWaitUntil
    {
        public (string Host, int Port) Target(IContainer container) => hostPort is { } port
            ? ("127.0.0.1", port)
            : (container.Hostname, container.GetMappedPublicPort(ContainerPort));

        public async Task<bool> UntilAsync(IContainer container)
        {
            var (host, port) = Target(container);
            try
            {
                return await RedisServerFixture.PingOnceAsync(host, port);
            }
            catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
            {
                return false;
            }
        }
    }

    private sealed class Running(IContainer container, string host, int port, string description) : IRedisContainer
    {
        public string Host => host;

        public int Port => port;

        public string Description => description;

        public ValueTask DisposeAsync() => container.DisposeAsync();
    }
}
