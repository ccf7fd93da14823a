using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace SessionKit.Tests;

/// <summary>
/// A real Redis server for tests. The shared fixture takes, in order: the server named by <c>SESSIONKIT_TEST_REDIS</c>
/// (<c>host:port</c>, loopback only); a container, when it was given an <see cref="IRedisContainerLauncher"/>, the
/// <c>SESSIONKIT_TEST_REDIS_CONTAINER</c> mode allows it and a Docker-compatible endpoint answers; else a local
/// <c>redis-server</c> on a free loopback port in a temporary directory (no persistence). Only a local server can be
/// stopped, restarted on the same port, paused and resumed (SIGSTOP/SIGCONT); tests that need that use
/// <see cref="StartPrivateAsync"/>, which always starts a local one. Everything the fixture started is removed on
/// dispose.
/// </summary>
/// <remarks>Depends on nothing but the BCL, so every test project can link it; the container path lives behind the seam.</remarks>
public sealed class RedisServerFixture : IAsyncLifetime, IAsyncDisposable
{
    /// <summary>The environment variable naming an external test server (<c>host:port</c>).</summary>
    public const string ExternalServerVariable = "SESSIONKIT_TEST_REDIS";

    /// <summary>The environment variable choosing the container path: <c>never</c>, <c>auto</c> (the default) or <c>required</c>.</summary>
    public const string ContainerModeVariable = "SESSIONKIT_TEST_REDIS_CONTAINER";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    // Bounds a container start, an image pull included (a laptop's first `redis:7`).
    private static readonly TimeSpan ContainerStartTimeout = TimeSpan.FromMinutes(3);
    private const int ContainerAttempts = 2;

    private readonly bool _private;
    private readonly string[] _arguments = [];
    private readonly IRedisContainerLauncher? _containers;
    private readonly RedisContainerMode _containerMode;
    private readonly string? _externalEndPoint;
    private readonly StringBuilder _output = new();
    private Process? _process;
    private IRedisContainer? _container;
    private string? _directory;

    /// <summary>
    /// Initializes a new instance of the <see cref="RedisServerFixture"/> class that honours
    /// <see cref="ExternalServerVariable"/> and otherwise starts a local server (no container path).
    /// </summary>
    public RedisServerFixture()
        : this(containers: null)
    {
    }

    /// <summary>
    /// Initializes a new instance of the <see cref="RedisServerFixture"/> class that honours
    /// <see cref="ExternalServerVariable"/> and <see cref="ContainerModeVariable"/>.
    /// </summary>
    /// <param name="containers">The container path, or <see langword="null"/> for none.</param>
    public RedisServerFixture(IRedisContainerLauncher? containers)
        : this(containers, ReadContainerMode(), Environment.GetEnvironmentVariable(ExternalServerVariable))
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RedisServerFixture"/> class with explicit settings (for tests of the choice itself).</summary>
    /// <param name="containers">The container path, or <see langword="null"/> for none.</param>
    /// <param name="containerMode">Whether a container may or must be used.</param>
    /// <param name="externalEndPoint">An external server's <c>host:port</c>, or <see langword="null"/>.</param>
    public RedisServerFixture(IRedisContainerLauncher? containers, RedisContainerMode containerMode, string? externalEndPoint)
    {
        _containers = containers;
        _containerMode = containerMode;
        _externalEndPoint = externalEndPoint;
    }

    private RedisServerFixture(bool isPrivate, string[] arguments)
    {
        _private = isPrivate;
        _arguments = arguments;
        _containerMode = RedisContainerMode.Never;
    }

    /// <summary>Gets the host, always a loopback address.</summary>
    public string Host { get; private set; } = "127.0.0.1";

    /// <summary>Gets the port.</summary>
    public int Port { get; private set; }

    /// <summary>Gets <c>host:port</c>.</summary>
    public string EndPoint => $"{Host}:{Port}";

    /// <summary>Gets where the server runs.</summary>
    public RedisServerKind Kind { get; private set; }

    /// <summary>Gets what the fixture chose and why, for test output and failure messages.</summary>
    public string Description { get; private set; } = "not started";

    /// <summary>Gets a value indicating whether the server is external (<see cref="ExternalServerVariable"/>) and cannot be stopped.</summary>
    public bool IsExternal => Kind == RedisServerKind.External;

    /// <summary>Gets a value indicating whether the server is running (always true for an external server or a container).</summary>
    public bool IsRunning => Kind != RedisServerKind.Local || _process is { HasExited: false };

    /// <summary>Starts a local server this caller owns, ignoring both environment variables (for stop/restart tests and command counts).</summary>
    /// <param name="arguments">
    /// Further <c>redis-server</c> arguments (for example <c>--cluster-enabled yes</c>); a relative file name in them
    /// resolves in the server's own temporary directory.
    /// </param>
    /// <returns>The running server.</returns>
    public static async Task<RedisServerFixture> StartPrivateAsync(params string[] arguments)
    {
        var fixture = new RedisServerFixture(isPrivate: true, arguments);
        await fixture.InitializeAsync();
        return fixture;
    }

    /// <summary>Reads <see cref="ContainerModeVariable"/>.</summary>
    /// <returns>The mode; <see cref="RedisContainerMode.Auto"/> when unset.</returns>
    /// <exception cref="InvalidOperationException">The variable holds something else than <c>never</c>, <c>auto</c> or <c>required</c>.</exception>
    public static RedisContainerMode ReadContainerMode() => ParseContainerMode(Environment.GetEnvironmentVariable(ContainerModeVariable));

    /// <summary>Parses a <see cref="ContainerModeVariable"/> value (case-insensitive, surrounding blanks ignored).</summary>
    /// <param name="value">The value, or <see langword="null"/> when unset.</param>
    /// <returns>The mode; <see cref="RedisContainerMode.Auto"/> when unset or blank.</returns>
    /// <exception cref="InvalidOperationException">The value is something else than <c>never</c>, <c>auto</c> or <c>required</c>.</exception>
    public static RedisContainerMode ParseContainerMode(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        null or "" or "AUTO" => RedisContainerMode.Auto,
        "NEVER" => RedisContainerMode.Never,
        "REQUIRED" => RedisContainerMode.Required,
        _ => throw new InvalidOperationException($"{ContainerModeVariable} must be never, auto or required, not '{value}'."),
    };

    /// <summary>Starts the server (or checks the external one answers).</summary>
    /// <returns>A task that completes when the server answers <c>PING</c>.</returns>
    /// <exception cref="InvalidOperationException">
    /// No server could be had: the container path was required and failed, or <c>redis-server</c> is missing.
    /// </exception>
    public async Task InitializeAsync()
    {
        if (!_private && !string.IsNullOrWhiteSpace(_externalEndPoint))
        {
            if (_containerMode == RedisContainerMode.Required && _containers is not null)
            {
                throw new InvalidOperationException(
                    $"{ContainerModeVariable}=required and {ExternalServerVariable} contradict each other: unset one.");
            }

            var (host, port) = ParseEndPoint(_externalEndPoint);
            Host = host;
            Port = port;
            Kind = RedisServerKind.External;
            Description = $"{ExternalServerVariable}={EndPoint}";
            await WaitForPingAsync(StartTimeout);
            return;
        }

        string? containerFailure = null;
        if (_containers is not null && _containerMode != RedisContainerMode.Never)
        {
            containerFailure = await TryStartContainerAsync(_containers);
            if (containerFailure is null)
            {
                return;
            }
        }

        _directory = Directory.CreateTempSubdirectory("sessionkit-redis-").FullName;
        for (var attempt = 1; ; attempt++)
        {
            Port = FindFreePort();
            try
            {
                await StartAsync();
                Kind = RedisServerKind.Local;
                Description = $"local redis-server on {EndPoint}"
                    + (containerFailure is null ? string.Empty : $" (no container: {containerFailure})");
                return;
            }
            catch (InvalidOperationException) when (attempt < 5)
            {
                // Another process took the port between the probe and the bind: try another one.
            }
            catch (InvalidOperationException ex) when (containerFailure is not null)
            {
                throw new InvalidOperationException($"{ex.Message} The container path was tried first: {containerFailure}", ex);
            }
        }
    }

    /// <summary>Starts the stopped server again on the same port.</summary>
    /// <returns>A task that completes when the server answers <c>PING</c>.</returns>
    /// <exception cref="InvalidOperationException">The server is external, already running or did not start.</exception>
    public async Task StartAsync()
    {
        EnsureOwned();
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException("The Redis server is already running.");
        }

        var info = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory!,
        };
        foreach (var argument in new[]
        {
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--save", string.Empty,
            "--appendonly", "no",
            "--dir", _directory!,
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--loglevel", "warning",
        }.Concat(_arguments))
        {
            info.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException(
                "redis-server is not installed. Install it (Debian/Ubuntu: apt-get install -y redis-server) or set "
                + ExternalServerVariable + "=host:port. eng/test.sh installs it when missing.",
                ex);
        }

        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        try
        {
            await WaitForPingAsync(StartTimeout);
        }
        catch (Exception ex) when (ex is TimeoutException or IOException or SocketException)
        {
            KillProcess();
            throw new InvalidOperationException($"redis-server did not answer on {EndPoint}: {Output}", ex);
        }
    }

    /// <summary>Kills the server (as a crash would), keeping its port for <see cref="StartAsync"/>.</summary>
    /// <returns>A task that completes when the process has exited.</returns>
    public Task StopAsync()
    {
        EnsureOwned();
        KillProcess();
        return Task.CompletedTask;
    }

    /// <summary>Freezes the server (SIGSTOP): connections stay open and nothing answers, like a hung server.</summary>
    public void Pause() => Signal(SigStop);

    /// <summary>Resumes a paused server (SIGCONT).</summary>
    public void Resume() => Signal(SigCont);

    /// <summary>Gets what the server printed (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Kills the server and deletes its directory.</summary>
    /// <returns>A task that completes when done.</returns>
    public async Task DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
            _container = null;
        }

        if (Kind == RedisServerKind.Local)
        {
            if (_process is { HasExited: false })
            {
                // A paused process still dies on SIGKILL.
                KillProcess();
            }

            _process?.Dispose();
            _process = null;
            if (_directory is not null && Directory.Exists(_directory))
            {
                Directory.Delete(_directory, recursive: true);
            }
        }
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    /// <summary>Sends a raw <c>PING</c> until the server answers <c>+PONG</c> or the timeout passes.</summary>
    /// <param name="timeout">How long to keep trying.</param>
    /// <returns>A task that completes when the server answered.</returns>
    /// <exception cref="TimeoutException">The server did not answer in time.</exception>
    public async Task WaitForPingAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        Exception? last = null;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (_process is { HasExited: true })
            {
                throw new InvalidOperationException($"redis-server exited with code {_process.ExitCode}: {Output}");
            }

            try
            {
                if (await PingOnceAsync(Host, Port))
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
            {
                last = ex;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException($"Redis at {EndPoint} did not answer PING within {timeout}.", last);
    }

    /// <summary>Sends one raw <c>PING</c> over a new connection, giving it at most a second.</summary>
    /// <param name="host">The host.</param>
    /// <param name="port">The port.</param>
    /// <returns><see langword="true"/> when the server answered <c>+PONG</c>.</returns>
    /// <exception cref="SocketException">The connection failed.</exception>
    /// <exception cref="IOException">The connection broke.</exception>
    /// <exception cref="OperationCanceledException">Nothing answered within the second.</exception>
    public static async Task<bool> PingOnceAsync(string host, int port)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        using var client = new TcpClient();
        await client.ConnectAsync(host, port, cts.Token);
        var stream = client.GetStream();
        await stream.WriteAsync("PING\r\n"u8.ToArray(), cts.Token);
        var buffer = new byte[64];
        var read = await stream.ReadAsync(buffer, cts.Token);
        return read >= 5 && Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
    }

    /// <summary>Tells whether a host name or address is loopback (tests never talk to another machine).</summary>
    /// <param name="host">A host name or address, IPv6 optionally in brackets.</param>
    /// <returns><see langword="true"/> for <c>localhost</c> and loopback addresses.</returns>
    public static bool IsLoopback(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
    }

    /// <summary>Finds a free loopback port (free when asked; another process may take it before it is bound).</summary>
    /// <returns>The port.</returns>
    public static int FindFreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    // Returns null when a container runs, else why not (auto mode only: in required mode a failure throws).
    private async Task<string?> TryStartContainerAsync(IRedisContainerLauncher containers)
    {
        var required = _containerMode == RedisContainerMode.Required;
        var endpoint = await containers.FindEndpointAsync();
        if (endpoint is null)
        {
            var tried = containers.Candidates.Count == 0
                ? "none (DOCKER_HOST names no unix socket or loopback tcp endpoint)"
                : string.Join(", ", containers.Candidates);
            var reason = $"no Docker-compatible endpoint answered /_ping (tried {tried})";
            return required ? throw new InvalidOperationException($"{ContainerModeVariable}=required, but {reason}.") : reason;
        }

        var failures = new List<string>();
        for (var attempt = 1; attempt <= ContainerAttempts; attempt++)
        {
            try
            {
                using var cts = new CancellationTokenSource(ContainerStartTimeout);
                _container = await containers.StartAsync(endpoint, FindFreePort(), cts.Token);
                if (!IsLoopback(_container.Host))
                {
                    throw new InvalidOperationException($"the container is reachable on {_container.Host}, not on loopback; tests never talk to another machine");
                }

                Host = NormalizeLoopback(_container.Host);
                Port = _container.Port;
                await WaitForPingAsync(StartTimeout);
                Kind = RedisServerKind.Container;
                Description = _container.Description
                    + (failures.Count == 0 ? string.Empty : $" (attempt {attempt}; before: {string.Join("; ", failures)})");
                return null;
            }
            catch (Exception ex)
            {
                // Any failure, the engine's or the server's: a second attempt on a fresh port covers a port taken
                // between the probe and the bind; the first failure stays in the description.
                failures.Add($"{ex.GetType().Name}: {ex.Message}");
                if (_container is not null)
                {
                    await _container.DisposeAsync();
                    _container = null;
                }

                if (attempt == ContainerAttempts && required)
                {
                    throw new InvalidOperationException(
                        $"{ContainerModeVariable}=required, but no Redis container started through {endpoint}: {string.Join("; ", failures)}", ex);
                }
            }
        }

        return $"the container through {endpoint} failed: {string.Join("; ", failures)}";
    }

    private static (string Host, int Port) ParseEndPoint(string value) => ParseLoopbackEndPoint(value, ExternalServerVariable);

    /// <summary>Parses <c>host:port</c> from an environment variable, refusing any host that is not loopback.</summary>
    /// <param name="value">The endpoint.</param>
    /// <param name="variable">The variable it came from (for the message).</param>
    /// <returns>The host (<c>localhost</c> as <c>127.0.0.1</c>) and the port.</returns>
    /// <exception cref="InvalidOperationException">The value is not <c>host:port</c> or not loopback.</exception>
    public static (string Host, int Port) ParseLoopbackEndPoint(string value, string variable)
    {
        ArgumentNullException.ThrowIfNull(value);
        value = value.Trim();
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), out var port) || port is <= 0 or > 65535)
        {
            throw new InvalidOperationException($"{variable} must be host:port, for example 127.0.0.1:6379.");
        }

        var host = value[..colon];
        if (!IsLoopback(host))
        {
            throw new InvalidOperationException($"{variable} must name a loopback address; tests never talk to a remote server.");
        }

        return (NormalizeLoopback(host), port);
    }

    private static string NormalizeLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? "127.0.0.1" : host.Trim('[', ']');

    private void EnsureOwned()
    {
        if (Kind != RedisServerKind.Local)
        {
            throw new InvalidOperationException(
                $"The shared server ({Description}) cannot be stopped or started by tests; use {nameof(StartPrivateAsync)}.");
        }
    }

    private void KillProcess()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            if (!process.WaitForExit(StopTimeout))
            {
                throw new InvalidOperationException("redis-server did not exit after SIGKILL.");
            }
        }
    }

    private void Signal(int signal)
    {
        EnsureOwned();
        if (_process is not { HasExited: false } process)
        {
            throw new InvalidOperationException("The Redis server is not running.");
        }

        if (SendSignal(process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({process.Id}, {signal}) failed with errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 64 * 1024)
            {
                _output.AppendLine(line);
            }
        }
    }

    private const int SigCont = 18;
    private const int SigStop = 19;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SendSignal(int pid, int signal);
}
