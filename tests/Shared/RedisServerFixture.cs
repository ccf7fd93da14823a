using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace SessionKit.Tests;

/// <summary>
/// A real <c>redis-server</c> for tests: started on a free loopback port in a temporary directory (no persistence),
/// stopped, restarted on the same port, paused and resumed (SIGSTOP/SIGCONT), and killed on dispose. When
/// <c>SESSIONKIT_TEST_REDIS</c> (<c>host:port</c>, loopback only) is set, that server is used instead and cannot be
/// stopped; tests that need to stop a server use <see cref="StartPrivateAsync"/>.
/// </summary>
/// <remarks>Depends on nothing but the BCL, so every test project can link it.</remarks>
public sealed class RedisServerFixture : IAsyncLifetime, IAsyncDisposable
{
    /// <summary>The environment variable naming an external test server (<c>host:port</c>).</summary>
    public const string ExternalServerVariable = "SESSIONKIT_TEST_REDIS";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly bool _private;
    private readonly string[] _arguments;
    private readonly StringBuilder _output = new();
    private Process? _process;
    private string? _directory;

    /// <summary>Initializes a new instance of the <see cref="RedisServerFixture"/> class (honours <see cref="ExternalServerVariable"/>).</summary>
    public RedisServerFixture()
        : this(isPrivate: false, [])
    {
    }

    private RedisServerFixture(bool isPrivate, string[] arguments)
    {
        _private = isPrivate;
        _arguments = arguments;
    }

    /// <summary>Gets the host, always a loopback address.</summary>
    public string Host { get; private set; } = "127.0.0.1";

    /// <summary>Gets the port.</summary>
    public int Port { get; private set; }

    /// <summary>Gets <c>host:port</c>.</summary>
    public string EndPoint => $"{Host}:{Port}";

    /// <summary>Gets a value indicating whether the server is external (<see cref="ExternalServerVariable"/>) and cannot be stopped.</summary>
    public bool IsExternal { get; private set; }

    /// <summary>Gets a value indicating whether the server process is running (always true for an external server).</summary>
    public bool IsRunning => IsExternal || _process is { HasExited: false };

    /// <summary>Starts a server this caller owns, ignoring <see cref="ExternalServerVariable"/> (for stop/restart tests and command counts).</summary>
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

    /// <summary>Starts the server (or checks the external one answers).</summary>
    /// <returns>A task that completes when the server answers <c>PING</c>.</returns>
    public async Task InitializeAsync()
    {
        var external = _private ? null : Environment.GetEnvironmentVariable(ExternalServerVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            var (host, port) = ParseLoopbackEndPoint(external, ExternalServerVariable);
            Host = host;
            Port = port;
            IsExternal = true;
            await WaitForPingAsync(StartTimeout);
            return;
        }

        _directory = Directory.CreateTempSubdirectory("sessionkit-redis-").FullName;
        for (var attempt = 1; ; attempt++)
        {
            Port = FindFreePort();
            try
            {
                await StartAsync();
                return;
            }
            catch (InvalidOperationException) when (attempt < 5)
            {
                // Another process took the port between the probe and the bind: try another one.
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
    public Task DisposeAsync()
    {
        if (!IsExternal)
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

        return Task.CompletedTask;
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
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                using var client = new TcpClient();
                await client.ConnectAsync(Host, Port, cts.Token);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray(), cts.Token);
                var buffer = new byte[64];
                var read = await stream.ReadAsync(buffer, cts.Token);
                if (read >= 5 && Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal))
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
        var loopback = host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
        if (!loopback)
        {
            throw new InvalidOperationException($"{variable} must name a loopback address; tests never talk to a remote server.");
        }

        return (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? "127.0.0.1" : host.Trim('[', ']'), port);
    }

    /// <summary>Finds a loopback port that is free now (another process may still take it before it is bound).</summary>
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

    private void EnsureOwned()
    {
        if (IsExternal)
        {
            throw new InvalidOperationException($"The server from {ExternalServerVariable} cannot be stopped or started by tests.");
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
