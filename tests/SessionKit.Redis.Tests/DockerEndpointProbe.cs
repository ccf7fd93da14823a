using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SessionKit.Tests;

/// <summary>
/// Finds a Docker-compatible endpoint that answers <c>GET /_ping</c>, quickly and with the BCL only, so that a machine
/// without one pays a second or two at most and never initializes Testcontainers. Candidates: <c>DOCKER_HOST</c>
/// alone when it is set, else the sockets Testcontainers discovers by itself (<c>/var/run/docker.sock</c>, the
/// rootless and Docker Desktop ones). Only unix sockets and loopback <c>tcp://</c> endpoints are tried: tests never
/// talk to another machine, and plain HTTP cannot probe a TLS endpoint.
/// </summary>
internal static class DockerEndpointProbe
{
    /// <summary>How long the whole probe may take.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(1.5);

    private static readonly Lazy<Task<Uri?>> Found = new(() => FindAsync(CandidatesFromEnvironment(), Budget));

    /// <summary>Gets the candidates this process's environment names.</summary>
    /// <returns>The candidates, in order.</returns>
    public static IReadOnlyList<Uri> CandidatesFromEnvironment() => Candidates(
        Environment.GetEnvironmentVariable("DOCKER_HOST"),
        Environment.GetEnvironmentVariable("HOME"),
        Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR"));

    /// <summary>Lists the candidates for a given environment.</summary>
    /// <param name="dockerHost"><c>DOCKER_HOST</c>, or <see langword="null"/>.</param>
    /// <param name="home"><c>HOME</c>, or <see langword="null"/>.</param>
    /// <param name="xdgRuntimeDir"><c>XDG_RUNTIME_DIR</c>, or <see langword="null"/>.</param>
    /// <returns>The candidates, in order; empty when <c>DOCKER_HOST</c> names something that is not probed.</returns>
    public static IReadOnlyList<Uri> Candidates(string? dockerHost, string? home, string? xdgRuntimeDir)
    {
        if (!string.IsNullOrWhiteSpace(dockerHost))
        {
            return Uri.TryCreate(dockerHost.Trim(), UriKind.Absolute, out var uri) && IsProbeable(uri) ? [uri] : [];
        }

        var candidates = new List<Uri> { new("unix:///var/run/docker.sock") };
        if (!string.IsNullOrEmpty(xdgRuntimeDir))
        {
            candidates.Add(new Uri("unix://" + Path.Combine(xdgRuntimeDir, "docker.sock")));
        }

        if (!string.IsNullOrEmpty(home))
        {
            candidates.Add(new Uri("unix://" + Path.Combine(home, ".docker", "run", "docker.sock")));
            candidates.Add(new Uri("unix://" + Path.Combine(home, ".docker", "desktop", "docker.sock")));
        }

        return candidates;
    }

    /// <summary>Probes this process's candidates once; later calls share the first answer.</summary>
    /// <returns>The first endpoint that answered, or <see langword="null"/>.</returns>
    public static Task<Uri?> FindOnceAsync() => Found.Value;

    /// <summary>Probes candidates in order, all within one budget.</summary>
    /// <param name="candidates">The candidates.</param>
    /// <param name="budget">How long the whole probe may take.</param>
    /// <returns>The first endpoint that answered, or <see langword="null"/>.</returns>
    public static async Task<Uri?> FindAsync(IEnumerable<Uri> candidates, TimeSpan budget)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        using var cts = new CancellationTokenSource(budget);
        foreach (var candidate in candidates)
        {
            if (await PingAsync(candidate, cts.Token))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Sends <c>GET /_ping</c> to one endpoint.</summary>
    /// <param name="endpoint">A <c>unix://</c> or loopback <c>tcp://</c> endpoint.</param>
    /// <param name="cancellationToken">Bounds the probe.</param>
    /// <returns><see langword="true"/> when it answered HTTP 200; <see langword="false"/> on anything else, a timeout included.</returns>
    public static async Task<bool> PingAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!IsProbeable(endpoint))
        {
            return false;
        }

        var unix = endpoint.Scheme == "unix";
        if (unix && !File.Exists(endpoint.LocalPath))
        {
            return false;
        }

        try
        {
            using var socket = unix
                ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
                : new Socket(SocketType.Stream, ProtocolType.Tcp);
            EndPoint target = unix
                ? new UnixDomainSocketEndPoint(endpoint.LocalPath)
                : new DnsEndPoint(endpoint.Host, endpoint.Port);
            await socket.ConnectAsync(target, cancellationToken);
            await socket.SendAsync("GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"u8.ToArray(), cancellationToken);
            var buffer = new byte[256];
            var read = 0;
            while (read < buffer.Length)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(read), cancellationToken);
                if (n == 0)
                {
                    break;
                }

                read += n;
                if (Array.IndexOf(buffer, (byte)'\n', 0, read) >= 0)
                {
                    break;
                }
            }

            var statusLine = Encoding.ASCII.GetString(buffer, 0, read).Split('\n')[0];
            return statusLine.StartsWith("HTTP/1.", StringComparison.Ordinal)
                && statusLine.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, "200", ..];
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private static bool IsProbeable(Uri endpoint) =>
        endpoint.Scheme == "unix"
        || (endpoint.Scheme == "tcp" && endpoint.Port > 0 && RedisServerFixture.IsLoopback(endpoint.Host));
}
