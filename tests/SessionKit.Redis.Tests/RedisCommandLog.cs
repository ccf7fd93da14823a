using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using StackExchange.Redis;

namespace SessionKit.Tests;

/// <summary>
/// Records what a Redis server executes, through a raw <c>MONITOR</c> connection: each line is one command, with its
/// arguments, tagged <c>lua</c> when a script ran it. <see cref="StopAsync"/> waits until a marker command sent after
/// the workload has come through, so nothing is missed.
/// </summary>
public sealed class RedisCommandLog : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly ConcurrentQueue<MonitoredCommand> _commands = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;

    private RedisCommandLog(TcpClient client)
    {
        _client = client;
        _reader = Task.Run(ReadAsync);
    }

    /// <summary>Starts monitoring a server.</summary>
    /// <param name="server">The server.</param>
    /// <returns>The running log.</returns>
    public static async Task<RedisCommandLog> StartAsync(RedisServerFixture server)
    {
        var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port);
        var stream = client.GetStream();
        await stream.WriteAsync("MONITOR\r\n"u8.ToArray());
        var buffer = new byte[5];
        var read = 0;
        while (read < 5)
        {
            read += await stream.ReadAsync(buffer.AsMemory(read));
        }

        Encoding.ASCII.GetString(buffer).Should().Be("+OK\r\n");
        return new RedisCommandLog(client);
    }

    /// <summary>Sends a marker through <paramref name="multiplexer"/> and waits until MONITOR has shown it.</summary>
    /// <param name="multiplexer">A connection to the same server.</param>
    /// <returns>The commands recorded before the marker (the marker and INFO/PING traffic of the client excluded).</returns>
    public async Task<IReadOnlyList<MonitoredCommand>> StopAsync(IConnectionMultiplexer multiplexer)
    {
        var marker = "marker-" + Guid.NewGuid().ToString("N");
        await multiplexer.GetDatabase().ExecuteAsync("ECHO", marker);
        var deadline = Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency);
        while (!_commands.Any(c => c.Name == "ECHO" && c.Arguments.Contains(marker)))
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException("MONITOR did not show the marker within 10 s.");
            }

            await Task.Delay(10);
        }

        await DisposeAsync();
        return [.. _commands.TakeWhile(c => !(c.Name == "ECHO" && c.Arguments.Contains(marker)))
            .Where(static c => !IsClientHousekeeping(c))];
    }

    /// <summary>Connection upkeep of StackExchange.Redis (heartbeats, tie-breaker, database selection), not session work.</summary>
    private static bool IsClientHousekeeping(MonitoredCommand command) =>
        !command.FromScript
        && (command.Name is "PING" or "INFO" or "ECHO" or "CLUSTER" or "CONFIG" or "CLIENT" or "SUBSCRIBE" or "SENTINEL" or "SELECT"
            || (command.Name == "GET" && command.Arguments is ["__Booksleeve_TieBreak"]));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
            _client.Dispose();
            try
            {
                await _reader;
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
            {
                // The connection was closed on purpose.
            }

            _stop.Dispose();
        }
    }

    private async Task ReadAsync()
    {
        using var reader = new StreamReader(_client.GetStream(), Encoding.UTF8);
        while (!_stop.IsCancellationRequested)
        {
            var line = await reader.ReadLineAsync(_stop.Token);
            if (line is null)
            {
                return;
            }

            if (MonitoredCommand.TryParse(line, out var command))
            {
                _commands.Enqueue(command);
            }
        }
    }
}

/// <summary>One line of <c>MONITOR</c> output.</summary>
/// <param name="FromScript">Whether a Lua script ran the command.</param>
/// <param name="Name">The command name, upper case.</param>
/// <param name="Arguments">The arguments, unescaped.</param>
public sealed record MonitoredCommand(bool FromScript, string Name, IReadOnlyList<string> Arguments)
{
    /// <summary>Gets the write commands a client (not a script) sends.</summary>
    public static IReadOnlySet<string> ClientWrites { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "EVALSHA", "EVAL", "ZADD", "ZREM", "HSET", "HMSET", "HDEL", "DEL", "UNLINK", "EXPIRE", "PEXPIRE", "PEXPIREAT", "SET",
    };

    /// <summary>Parses a MONITOR line: <c>1700000000.123456 [0 127.0.0.1:5000] "CMD" "arg"</c>.</summary>
    public static bool TryParse(string line, out MonitoredCommand command)
    {
        command = null!;
        var close = line.IndexOf(']', StringComparison.Ordinal);
        var open = line.IndexOf('[', StringComparison.Ordinal);
        if (open < 0 || close < open)
        {
            return false;
        }

        var fromScript = line.AsSpan(open, close - open).Contains("lua", StringComparison.Ordinal);
        var arguments = new List<string>();
        var i = close + 1;
        while (i < line.Length)
        {
            if (line[i] != '"')
            {
                i++;
                continue;
            }

            var value = new StringBuilder();
            i++;
            while (i < line.Length && line[i] != '"')
            {
                if (line[i] == '\\' && i + 1 < line.Length)
                {
                    i++;
                    switch (line[i])
                    {
                        case 'n': value.Append('\n'); break;
                        case 'r': value.Append('\r'); break;
                        case 't': value.Append('\t'); break;
                        case 'x' when i + 2 < line.Length:
                            value.Append((char)Convert.ToInt32(line.Substring(i + 1, 2), 16));
                            i += 2;
                            break;
                        default: value.Append(line[i]); break;
                    }
                }
                else
                {
                    value.Append(line[i]);
                }

                i++;
            }

            arguments.Add(value.ToString());
            i++;
        }

        if (arguments.Count == 0)
        {
            return false;
        }

        command = new MonitoredCommand(fromScript, arguments[0].ToUpperInvariant(), arguments.Skip(1).ToList());
        return true;
    }
}

/// <summary>Reads <c>INFO commandstats</c>: calls per command since the last <c>CONFIG RESETSTAT</c>.</summary>
public static class RedisCommandStats
{
    /// <summary>Resets the server's command statistics.</summary>
    public static async Task ResetAsync(IConnectionMultiplexer multiplexer) =>
        await multiplexer.GetDatabase().ExecuteAsync("CONFIG", "RESETSTAT");

    /// <summary>Reads successful calls per command (lower case, e.g. <c>hgetall</c>, <c>evalsha</c>): calls minus failed calls (an EVALSHA answered NOSCRIPT ran nothing).</summary>
    public static async Task<IReadOnlyDictionary<string, long>> ReadAsync(IConnectionMultiplexer multiplexer)
    {
        var text = (string)(await multiplexer.GetDatabase().ExecuteAsync("INFO", "commandstats"))!;
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            // cmdstat_hgetall:calls=1000,usec=...
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = line[8..colon];
            var fields = line[(colon + 1)..].Split(',').Select(static f => f.Split('=')).ToDictionary(static f => f[0], static f => f[1], StringComparer.Ordinal);
            var failed = fields.TryGetValue("failed_calls", out var f) ? long.Parse(f, System.Globalization.CultureInfo.InvariantCulture) : 0;
            calls[name] = long.Parse(fields["calls"], System.Globalization.CultureInfo.InvariantCulture) - failed;
        }

        return calls;
    }

    /// <summary>Gets the calls of one command (0 when absent).</summary>
    public static long Of(this IReadOnlyDictionary<string, long> stats, string command) => stats.TryGetValue(command, out var calls) ? calls : 0;
}
