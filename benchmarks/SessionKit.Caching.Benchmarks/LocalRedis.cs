using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SessionKit.Caching.Benchmarks;

/// <summary>A throwaway redis-server on a free loopback port (or SESSIONKIT_TEST_REDIS when set).</summary>
internal sealed class LocalRedis : IDisposable
{
    private readonly Process? _process;
    private readonly string? _directory;

    public LocalRedis()
    {
        var external = Environment.GetEnvironmentVariable("SESSIONKIT_TEST_REDIS");
        if (!string.IsNullOrWhiteSpace(external))
        {
            EndPoint = external;
            return;
        }

        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        _directory = Directory.CreateTempSubdirectory("sessionkit-bench-").FullName;
        var info = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true, WorkingDirectory = _directory };
        foreach (var argument in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no", "--dir", _directory })
        {
            info.ArgumentList.Add(argument);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        EndPoint = $"127.0.0.1:{port}";
        for (var i = 0; i < 200; i++)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(25);
            }
        }

        throw new InvalidOperationException("redis-server did not accept connections.");
    }

    public string EndPoint { get; }

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }

        _process?.Dispose();
        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
