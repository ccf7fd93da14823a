using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

/// <summary>A redis-server the harness starts on a free loopback port (or an existing one), and redis-benchmark against it.</summary>
internal sealed class RedisProcess : IAsyncDisposable
{
    private readonly Process? _process;
    private readonly string? _directory;

    private RedisProcess(string host, int port, Process? process, string? directory)
    {
        Host = host;
        Port = port;
        _process = process;
        _directory = directory;
    }

    public string Host { get; }

    public int Port { get; }

    public string EndPoint => $"{Host}:{Port}";

    public string Version { get; private set; } = "?";

    public static async Task<RedisProcess> StartAsync(string? existing)
    {
        RedisProcess server;
        if (existing is not null)
        {
            var colon = existing.LastIndexOf(':');
            server = new RedisProcess(existing[..colon], int.Parse(existing[(colon + 1)..], CultureInfo.InvariantCulture), null, null);
        }
        else
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            var directory = Directory.CreateTempSubdirectory("sessionkit-harness-").FullName;
            var info = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no", "--dir", directory, "--loglevel", "warning" })
            {
                info.ArgumentList.Add(argument);
            }

            var process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start (apt-get install -y redis-server).");
            process.OutputDataReceived += static (_, _) => { };
            process.ErrorDataReceived += static (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            server = new RedisProcess("127.0.0.1", port, process, directory);
        }

        for (var attempt = 0; attempt < 200; attempt++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(server.Host, server.Port);
                break;
            }
            catch (SocketException) when (attempt < 199)
            {
                await Task.Delay(25);
            }
        }

        server.Version = await server.ReadVersionAsync();
        return server;
    }

    /// <summary>Runs <c>redis-benchmark -t get</c> (no pipelining) at the given concurrency; <see langword="null"/> when it is not installed.</summary>
    public async Task<double?> RedisBenchmarkGetAsync(int clients)
    {
        var info = new ProcessStartInfo("redis-benchmark") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-h", Host, "-p", Port.ToString(CultureInfo.InvariantCulture), "-c", clients.ToString(CultureInfo.InvariantCulture), "-n", (clients == 1 ? 50_000 : 200_000).ToString(CultureInfo.InvariantCulture), "-d", "400", "-r", "1000", "-t", "set,get", "--csv" })
        {
            info.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(info)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await process.WaitForExitAsync(timeout.Token);
            foreach (var line in output.Split('\n'))
            {
                var cells = line.Split(',').Select(static c => c.Trim().Trim('"')).ToArray();
                if (cells.Length > 1 && cells[0] == "GET")
                {
                    return double.Parse(cells[1], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private async Task<string> ReadVersionAsync()
    {
        using var client = new TcpClient();
        await client.ConnectAsync(Host, Port);
        var stream = client.GetStream();
        await stream.WriteAsync("INFO server\r\n"u8.ToArray());
        var buffer = new byte[8192];
        var read = await stream.ReadAsync(buffer);
        var text = System.Text.Encoding.ASCII.GetString(buffer, 0, read);
        var at = text.IndexOf("redis_version:", StringComparison.Ordinal);
        return at < 0 ? "?" : text[(at + 14)..].Split('\r')[0];
    }
}
