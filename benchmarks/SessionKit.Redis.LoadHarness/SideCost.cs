/// <summary>
/// What one side of a write-cost cell cost over its timed runs: completed operations and their wall time, the
/// server's commands (calls and usec by name) and its process CPU, plus the commands the client sent in a separate
/// profiled pass (profiling never runs while throughput is timed).
/// </summary>
internal sealed class SideCost
{
    // Commands whose usec includes the commands they run (each of those is also counted on its own).
    private static readonly HashSet<string> Containers = new(StringComparer.Ordinal) { "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "exec" };

    private readonly Dictionary<string, (long Calls, long Usec)> _commands = new(StringComparer.Ordinal);
    private long _operations;
    private double _seconds;
    private double _cpuSeconds;

    public Sent Sent { get; set; } = Sent.None;

    public double OperationsPerSecond => _operations / Math.Max(_seconds, 1e-9);

    /// <summary>Gets the commands the server executed per operation (a script's or EXEC's inner commands included).</summary>
    public double ExecutedPerOperation => _commands.Values.Sum(static c => c.Calls) / (double)Math.Max(1, _operations);

    /// <summary>Gets the summed commandstats usec per operation: a script's inner commands count in it and in the script.</summary>
    public double UsecPerOperation => _commands.Values.Sum(static c => c.Usec) / (double)Math.Max(1, _operations);

    /// <summary>
    /// Gets the commandstats usec per operation with the commands a script ran counted once (inside the script's own
    /// usec): of each other command, the calls beyond those the client sent are taken as inner, at the command's mean
    /// usec. Commands queued inside MULTI/EXEC are sent by the client, so they stay counted twice.
    /// </summary>
    public double UsecInnerOncePerOperation
    {
        get
        {
            double usec = 0;
            foreach (var (name, (calls, total)) in _commands)
            {
                var executed = calls / (double)Math.Max(1, _operations);
                var inner = Containers.Contains(name) ? 0 : Math.Max(0, executed - Sent.PerOperation(name));
                usec += total * (1 - (executed > 0 ? inner / executed : 0));
            }

            return usec / Math.Max(1, _operations);
        }
    }

    /// <summary>Gets the server process's CPU per operation (user + system, network I/O included), in µs.</summary>
    public double CpuMicrosecondsPerOperation => _cpuSeconds * 1e6 / Math.Max(1, _operations);

    public void Add(long operations, TimeSpan elapsed, CommandStats delta)
    {
        _operations += operations;
        _seconds += elapsed.TotalSeconds;
        _cpuSeconds += delta.CpuSeconds;
        foreach (var (name, (calls, usec)) in delta.Commands)
        {
            if (!CommandStats.IsHousekeeping(name))
            {
                var (calls0, usec0) = _commands.GetValueOrDefault(name);
                _commands[name] = (calls0 + calls, usec0 + usec);
            }
        }
    }

    /// <summary>Describes the command mix per operation: sent (awaited, then fire-and-forget) and executed with usec.</summary>
    public string Describe()
    {
        static string PerOperation(IReadOnlyDictionary<string, long> counts, long operations) =>
            string.Join(", ", counts.OrderBy(static c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value / (double)Math.Max(1, operations):0.00}"));

        var fireAndForget = Sent.FireAndForget.Count > 0 ? $"; fire-and-forget {PerOperation(Sent.FireAndForget, Sent.Operations)}" : string.Empty;
        var executed = string.Join(", ", _commands.OrderBy(static c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value.Calls / (double)Math.Max(1, _operations):0.00} ({c.Value.Usec / (double)Math.Max(1, _operations):0.0} µs)"));
        return $"sent {PerOperation(Sent.Awaited, Sent.Operations)}{fireAndForget}; executed {executed}";
    }
}
