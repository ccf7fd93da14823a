using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using SessionKit.Redis;
using StackExchange.Redis;

namespace SessionKit.Tests.Cluster;

/// <summary>
/// A real Redis Cluster for tests: three masters (<c>redis-server --cluster-enabled yes</c>, each on a free loopback
/// port in its own temporary directory, no persistence) joined by <c>redis-cli --cluster create</c>, and one shared
/// multiplexer that lists all three. When <c>SESSIONKIT_TEST_REDIS_CLUSTER</c> (comma-separated loopback
/// <c>host:port</c>s) is set, that cluster is used instead. <see cref="ReshardAsync"/> moves slots between masters
/// with <c>redis-cli --cluster reshard</c>.
/// </summary>
public sealed class RedisClusterFixture : IAsyncLifetime, IRedisTestTarget
{
    /// <summary>The environment variable naming an external test cluster (<c>host:port,host:port,…</c>, loopback only).</summary>
    public const string ExternalClusterVariable = "SESSIONKIT_TEST_REDIS_CLUSTER";

    /// <summary>The number of masters the fixture starts.</summary>
    public const int MasterCount = 3;

    private const int SlotCount = 16384;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(5);

    private readonly List<RedisServerFixture> _servers = [];
    private IConnectionMultiplexer? _multiplexer;
    private string[] _endPoints = [];

    /// <summary>Gets the masters' <c>host:port</c>s as configured (the fixture's own, or those of the external cluster).</summary>
    public IReadOnlyList<string> EndPoints => _endPoints;

    /// <summary>Gets a value indicating whether the cluster is external (<see cref="ExternalClusterVariable"/>).</summary>
    public bool IsExternal { get; private set; }

    /// <summary>Gets the shared multiplexer (admin commands allowed).</summary>
    public IConnectionMultiplexer Multiplexer => _multiplexer ?? throw new InvalidOperationException("Not initialized.");

    /// <summary>Gets a configuration string listing every endpoint (see <see cref="RedisTestServer.ConfigurationFor(string)"/>).</summary>
    public string Configuration => RedisTestServer.ConfigurationFor(string.Join(',', _endPoints));

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var external = Environment.GetEnvironmentVariable(ExternalClusterVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            IsExternal = true;
            _endPoints = [.. external.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(static e => RedisServerFixture.ParseLoopbackEndPoint(e, ExternalClusterVariable))
                .Select(static e => $"{e.Host}:{e.Port}")];
        }
        else
        {
            for (var i = 0; i < MasterCount; i++)
            {
                _servers.Add(await StartMasterAsync());
            }

            _endPoints = [.. _servers.Select(static s => s.EndPoint)];
            await RunRedisCliAsync(
                [.. new[] { "--cluster", "create" }.Concat(_endPoints), "--cluster-replicas", "0", "--cluster-yes"],
                ReadyTimeout);
        }

        await WaitUntilReadyAsync(ReadyTimeout);
        _multiplexer = await ConnectionMultiplexer.ConnectAsync(Configuration);
        if (Primaries().Length < MasterCount)
        {
            throw new InvalidOperationException($"The multiplexer sees {Primaries().Length} connected masters, expected at least {MasterCount}.");
        }
    }

    /// <summary>Gets the masters the shared multiplexer is connected to, ordered by endpoint.</summary>
    /// <returns>The servers.</returns>
    public IServer[] Primaries() =>
        [.. Multiplexer.GetServers().Where(static s => !s.IsReplica && s.IsConnected).OrderBy(static s => s.EndPoint.ToString(), StringComparer.Ordinal)];

    /// <inheritdoc />
    public RedisSessionStore CreateStore(Action<RedisSessionStoreOptions>? configure = null)
    {
        var options = new RedisSessionStoreOptions
        {
            ConnectionMultiplexer = Multiplexer,
            KeyPrefix = RedisTestServer.NewPrefix(),
        };
        configure?.Invoke(options);
        return new RedisSessionStore(Microsoft.Extensions.Options.Options.Create(options));
    }

    /// <inheritdoc />
    public async Task DeletePrefixAsync(string prefix)
    {
        foreach (var server in Primaries())
        {
            var cursor = "0";
            for (var i = 0; i < 10_000; i++)
            {
                var reply = (RedisResult[])(await server.ExecuteAsync("SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"))!;
                cursor = (string)reply[0]!;
                foreach (var key in (RedisKey[])reply[1]!)
                {
                    await Multiplexer.GetDatabase().KeyDeleteAsync(key);
                }

                if (cursor == "0")
                {
                    break;
                }
            }
        }
    }

    /// <summary>Gets a master's node id (<c>CLUSTER MYID</c>).</summary>
    /// <param name="endPoint">The master's <c>host:port</c>.</param>
    /// <returns>The node id.</returns>
    public static async Task<string> NodeIdAsync(string endPoint) => await SendAsync(endPoint, "CLUSTER", "MYID");

    /// <summary>Gets the slots a master serves, in ascending order (from its own <c>CLUSTER NODES</c> line).</summary>
    /// <param name="endPoint">The master's <c>host:port</c>.</param>
    /// <returns>The slots.</returns>
    public static async Task<List<int>> SlotsAsync(string endPoint)
    {
        var nodes = await SendAsync(endPoint, "CLUSTER", "NODES");
        var mine = nodes.Split('\n').Single(static l => l.Contains("myself", StringComparison.Ordinal));
        var slots = new List<int>();
        foreach (var range in mine.Split(' ').Skip(8).Where(static r => r.Length > 0 && char.IsAsciiDigit(r[0])))
        {
            var dash = range.IndexOf('-', StringComparison.Ordinal);
            var first = int.Parse(dash < 0 ? range : range[..dash], CultureInfo.InvariantCulture);
            var last = dash < 0 ? first : int.Parse(range.AsSpan(dash + 1), CultureInfo.InvariantCulture);
            slots.AddRange(Enumerable.Range(first, last - first + 1));
        }

        slots.Sort();
        return slots;
    }

    /// <summary>Sums an <c>INFO errorstats</c> counter (for example <c>MOVED</c> or <c>ASK</c>) over every master.</summary>
    /// <param name="error">The error prefix.</param>
    /// <returns>How many replies with that error the masters sent since their stats were last reset.</returns>
    public async Task<long> ErrorCountAsync(string error)
    {
        long total = 0;
        foreach (var endPoint in _endPoints)
        {
            var info = await SendAsync(endPoint, "INFO", "errorstats");
            var line = info.Split('\n').Select(static l => l.Trim()).FirstOrDefault(l => l.StartsWith($"errorstat_{error}:count=", StringComparison.Ordinal));
            total += line is null ? 0 : long.Parse(line.AsSpan(line.IndexOf('=', StringComparison.Ordinal) + 1), CultureInfo.InvariantCulture);
        }

        return total;
    }

    /// <summary>Resets every master's statistics (<c>CONFIG RESETSTAT</c>), so <see cref="ErrorCountAsync"/> counts from now.</summary>
    /// <returns>A task that completes when done.</returns>
    public async Task ResetStatsAsync()
    {
        foreach (var endPoint in _endPoints)
        {
            await SendAsync(endPoint, "CONFIG", "RESETSTAT");
        }
    }

    /// <summary>
    /// Moves <paramref name="slots"/> slots from one master to another with <c>redis-cli --cluster reshard</c> (keys
    /// and all, while clients keep running), then waits until every master reports <c>cluster_state:ok</c>.
    /// </summary>
    /// <param name="from">The source master's <c>host:port</c>.</param>
    /// <param name="to">The target master's <c>host:port</c>.</param>
    /// <param name="slots">How many slots to move.</param>
    /// <param name="timeout">How long the reshard may take before it is killed and the call fails.</param>
    /// <returns>How many slots redis-cli reported moving.</returns>
    /// <exception cref="InvalidOperationException">redis-cli failed or timed out.</exception>
    public async Task<int> ReshardAsync(string from, string to, int slots, TimeSpan timeout)
    {
        var output = await RunRedisCliAsync(
            [
                "--cluster", "reshard", from,
                "--cluster-from", await NodeIdAsync(from),
                "--cluster-to", await NodeIdAsync(to),
                "--cluster-slots", slots.ToString(CultureInfo.InvariantCulture),
                "--cluster-yes",
            ],
            timeout);
        await WaitUntilReadyAsync(ReadyTimeout);
        return output.Split('\n').Count(static l => l.StartsWith("Moving slot ", StringComparison.Ordinal));
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_multiplexer is not null)
        {
            await _multiplexer.CloseAsync(allowCommandsToComplete: false);
            _multiplexer.Dispose();
        }

        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>Starts one master; its cluster bus port (normally port + 10 000, which may not exist) is a free port of its own.</summary>
    private static async Task<RedisServerFixture> StartMasterAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await RedisServerFixture.StartPrivateAsync(
                    "--cluster-enabled", "yes",
                    "--cluster-config-file", "nodes.conf",
                    "--cluster-port", RedisServerFixture.FindFreePort().ToString(CultureInfo.InvariantCulture),
                    "--cluster-node-timeout", "5000");
            }
            catch (InvalidOperationException) when (attempt < 5)
            {
                // The bus port was taken between the probe and the bind: try another one.
            }
        }
    }

    /// <summary>Waits until every master reports <c>cluster_state:ok</c> with all 16384 slots assigned and none migrating.</summary>
    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        var last = string.Empty;
        while (true)
        {
            var ready = true;
            foreach (var endPoint in _endPoints)
            {
                try
                {
                    var info = await SendAsync(endPoint, "CLUSTER", "INFO");
                    var nodes = await SendAsync(endPoint, "CLUSTER", "NODES");
                    var ok = info.Contains("cluster_state:ok", StringComparison.Ordinal)
                        && info.Contains($"cluster_slots_assigned:{SlotCount}", StringComparison.Ordinal)
                        && !nodes.Contains("->-", StringComparison.Ordinal)
                        && !nodes.Contains("-<-", StringComparison.Ordinal);
                    if (!ok)
                    {
                        last = $"{endPoint}: {info}";
                        ready = false;
                        break;
                    }
                }
                catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or InvalidOperationException)
                {
                    last = $"{endPoint}: {ex.Message}";
                    ready = false;
                    break;
                }
            }

            if (ready)
            {
                return;
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"The cluster was not ready within {timeout}: {last}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Runs redis-cli, killing it after <paramref name="timeout"/>.</summary>
    private static async Task<string> RunRedisCliAsync(string[] arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("redis-cli")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process? started;
        try
        {
            started = Process.Start(info);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException(
                "redis-cli is not installed. Install it (Debian/Ubuntu: apt-get install -y redis-server, which brings redis-cli); eng/test.sh installs it when missing.",
                ex);
        }

        using var process = started ?? throw new InvalidOperationException("redis-cli did not start.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new InvalidOperationException($"redis-cli {string.Join(' ', arguments)} did not finish within {timeout}: {await stdout}{await stderr}");
        }

        var output = await stdout + await stderr;
        if (process.ExitCode != 0 || output.Contains("[ERR]", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"redis-cli {string.Join(' ', arguments)} failed with exit code {process.ExitCode}: {output}");
        }

        return output;
    }

    /// <summary>Sends one command on a fresh connection and returns its reply as text (a status, a bulk string or an integer).</summary>
    private static async Task<string> SendAsync(string endPoint, params string[] command)
    {
        var (host, port) = RedisServerFixture.ParseLoopbackEndPoint(endPoint, ExternalClusterVariable);
        using var cts = new CancellationTokenSource(CommandTimeout);
        using var client = new TcpClient();
        await client.ConnectAsync(host, port, cts.Token);
        var stream = client.GetStream();
        var request = new StringBuilder().Append(CultureInfo.InvariantCulture, $"*{command.Length}\r\n");
        foreach (var part in command)
        {
            request.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(part)}\r\n{part}\r\n");
        }

        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()), cts.Token);
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        while (true)
        {
            var read = await stream.ReadAsync(chunk, cts.Token);
            if (read == 0)
            {
                throw new IOException($"{endPoint} closed the connection before replying.");
            }

            buffer.Write(chunk, 0, read);
            if (TryParseReply(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), out var reply))
            {
                return reply;
            }
        }
    }

    private static bool TryParseReply(ReadOnlySpan<byte> data, out string reply)
    {
        reply = string.Empty;
        var lineEnd = data.IndexOf("\r\n"u8);
        if (lineEnd < 0)
        {
            return false;
        }

        var header = Encoding.UTF8.GetString(data[1..lineEnd]);
        switch ((char)data[0])
        {
            case '+' or ':':
                reply = header;
                return true;
            case '-':
                throw new InvalidOperationException($"Redis replied with an error: {header}");
            case '$' or '=':
                var length = int.Parse(header, CultureInfo.InvariantCulture);
                if (data.Length < lineEnd + 2 + length + 2)
                {
                    return false;
                }

                reply = Encoding.UTF8.GetString(data.Slice(lineEnd + 2, length));
                return true;
            default:
                throw new InvalidOperationException($"Unexpected reply type '{(char)data[0]}'.");
        }
    }
}
