using StackExchange.Redis;
using StackExchange.Redis.Profiling;

/// <summary>
/// Counts the commands the client itself sends (StackExchange.Redis profiling), which <c>INFO commandstats</c> cannot
/// tell apart from the commands a script runs. Profiling is on only inside <see cref="CountAsync"/>, never while a
/// throughput figure is measured.
/// </summary>
internal sealed class SentCommands
{
    private ProfilingSession? _session;

    public SentCommands(IConnectionMultiplexer multiplexer) => multiplexer.RegisterProfiler(() => Volatile.Read(ref _session));

    /// <summary>Runs the load with profiling on and returns the commands it sent, housekeeping left out.</summary>
    public async Task<Sent> CountAsync(Func<Task<long>> run)
    {
        var session = new ProfilingSession();
        Volatile.Write(ref _session, session);
        long operations;
        try
        {
            operations = await run();
        }
        finally
        {
            Volatile.Write(ref _session, null);
        }

        var awaited = new Dictionary<string, long>(StringComparer.Ordinal);
        var fireAndForget = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var command in session.FinishProfiling())
        {
            var name = command.Command.ToLowerInvariant();
            if (CommandStats.IsHousekeeping(name))
            {
                continue;
            }

            var counts = (command.Flags & CommandFlags.FireAndForget) != 0 ? fireAndForget : awaited;
            counts[name] = counts.GetValueOrDefault(name) + 1;
        }

        return new Sent(operations, awaited, fireAndForget);
    }
}

/// <summary>What a profiled run sent over its operations: awaited and fire-and-forget commands by name.</summary>
internal sealed record Sent(long Operations, IReadOnlyDictionary<string, long> Awaited, IReadOnlyDictionary<string, long> FireAndForget)
{
    public static Sent None { get; } = new(0, new Dictionary<string, long>(), new Dictionary<string, long>());

    /// <summary>Gets the awaited commands per operation: the ones on the caller's path.</summary>
    public double AwaitedPerOperation => Awaited.Values.Sum() / (double)Math.Max(1, Operations);

    /// <summary>Gets the fire-and-forget commands per operation (sent, not waited for).</summary>
    public double FireAndForgetPerOperation => FireAndForget.Values.Sum() / (double)Math.Max(1, Operations);

    /// <summary>Gets how many times per operation a command was sent, awaited or not.</summary>
    public double PerOperation(string name) => (Awaited.GetValueOrDefault(name) + FireAndForget.GetValueOrDefault(name)) / (double)Math.Max(1, Operations);
}
