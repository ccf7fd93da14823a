using System.Globalization;
using StackExchange.Redis;

/// <summary>
/// A snapshot of the server's <c>INFO commandstats</c> (calls and usec per command, failed calls left out) and of its
/// process CPU (<c>INFO cpu</c>, user + system). Commands a Lua script or an <c>EXEC</c> runs are counted as their own
/// commands, and their time is counted both in them and in the script's or EXEC's own usec.
/// </summary>
internal sealed class CommandStats
{
    // The harness's own and the client's housekeeping commands, left out of every per-operation figure.
    private static readonly HashSet<string> Housekeeping = new(StringComparer.Ordinal) { "info", "config", "ping", "echo", "client", "cluster", "command", "hello", "select", "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "script" };

    private CommandStats(Dictionary<string, (long Calls, long Usec)> commands, double cpuSeconds)
    {
        Commands = commands;
        CpuSeconds = cpuSeconds;
    }

    /// <summary>Gets calls and usec per command name (lower case, subcommands as <c>name|sub</c>).</summary>
    public IReadOnlyDictionary<string, (long Calls, long Usec)> Commands { get; }

    /// <summary>Gets the server process's CPU time so far (user + system), in seconds.</summary>
    public double CpuSeconds { get; }

    /// <summary>Gets the calls of one command (0 when it never ran).</summary>
    public long Calls(string name) => Commands.TryGetValue(name, out var entry) ? entry.Calls : 0;

    /// <summary>Determines whether a command (lower case) is housekeeping rather than an operation's own work.</summary>
    public static bool IsHousekeeping(string name)
    {
        var bar = name.IndexOf('|', StringComparison.Ordinal);
        return Housekeeping.Contains(bar < 0 ? name : name[..bar]);
    }

    /// <summary>Zeroes the server's command statistics (<c>CONFIG RESETSTAT</c>; needs allowAdmin).</summary>
    public static async Task ResetAsync(IDatabase database) => await database.ExecuteAsync("CONFIG", "RESETSTAT");

    public static async Task<CommandStats> ReadAsync(IDatabase database)
    {
        var commands = Parse((string)(await database.ExecuteAsync("INFO", "commandstats"))!);
        var cpu = 0.0;
        foreach (var line in ((string)(await database.ExecuteAsync("INFO", "cpu"))!).Split('\n', StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith("used_cpu_sys:", StringComparison.Ordinal) || line.StartsWith("used_cpu_user:", StringComparison.Ordinal))
            {
                cpu += double.Parse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return new CommandStats(commands, cpu);
    }

    /// <summary>Returns what ran between an earlier snapshot and this one.</summary>
    public CommandStats Since(CommandStats earlier)
    {
        var delta = new Dictionary<string, (long Calls, long Usec)>(StringComparer.Ordinal);
        foreach (var (name, (calls, usec)) in Commands)
        {
            var (calls0, usec0) = earlier.Commands.TryGetValue(name, out var before) ? before : (0, 0);
            if (calls > calls0)
            {
                delta[name] = (calls - calls0, usec - usec0);
            }
        }

        return new CommandStats(delta, CpuSeconds - earlier.CpuSeconds);
    }

    private static Dictionary<string, (long Calls, long Usec)> Parse(string info)
    {
        var commands = new Dictionary<string, (long Calls, long Usec)>(StringComparer.Ordinal);
        foreach (var line in info.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("cmdstat_", StringComparison.Ordinal))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                var fields = line[(colon + 1)..].Split(',').Select(static f => f.Split('=')).ToDictionary(static f => f[0], static f => f[1], StringComparer.Ordinal);
                long Field(string name) => fields.TryGetValue(name, out var value) ? long.Parse(value, CultureInfo.InvariantCulture) : 0;
                commands[line[8..colon]] = (Field("calls") - Field("failed_calls"), Field("usec"));
            }
        }

        return commands;
    }
}
