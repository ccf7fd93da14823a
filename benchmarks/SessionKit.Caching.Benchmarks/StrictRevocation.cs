using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using StackExchange.Redis;

namespace SessionKit.Caching.Benchmarks;

/// <summary>
/// Strict revocation across nodes (issue 11 §3): 2 and 3 nodes on one redis-server, each a manager with the L1 and
/// the Redis backplane. Each round creates a session on a random node, reads it on every node until each L1 holds it
/// (the hits are counted from each node's sessionkit.cache.hits), deletes it on a random node and at once reads it on
/// every other node: a found session is stale. The delete's latency (store + revocation) is set beside the same
/// rounds in eventual mode (StrictRevocation = false) and an uncached manager's delete (store only), interleaved
/// round by round so background load falls on all three alike. Then the L1 hit's cost (L1HitCost).
/// </summary>
internal static class StrictRevocation
{
    private const int WarmupRounds = 200;

    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = 10_000;
        int[] nodeCounts = [2, 3];
        int[] callers = [16];
        var duration = TimeSpan.FromSeconds(2);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--rounds": rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--nodes": nodeCounts = [.. args[i + 1].Split(',').Select(static n => int.Parse(n, CultureInfo.InvariantCulture))]; break;
                case "--callers": callers = [.. args[i + 1].Split(',').Select(static c => int.Parse(c, CultureInfo.InvariantCulture))]; break;
                case "--duration": duration = TimeSpan.FromSeconds(double.Parse(args[i + 1], CultureInfo.InvariantCulture)); break;
                default: throw new ArgumentException($"Unknown option {args[i]} (--rounds, --nodes, --callers, --duration).");
            }
        }

        using var redis = new LocalRedis();
        var configuration = redis.EndPoint + ",abortConnect=false";
        using var listener = NodeMeters.Listen();
        await using var admin = await ConnectionMultiplexer.ConnectAsync(configuration + ",allowAdmin=true");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Redis on {redis.EndPoint}; StackExchange.Redis {ClientVersion()}; {Environment.ProcessorCount} CPUs; .NET {Environment.Version}; load average {LoadAverage()}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rounds:N0} rounds per node count after {WarmupRounds} warm-up rounds; strict, eventual and uncached interleaved round by round."));
        Console.WriteLine();

        var rows = new List<string>();
        foreach (var nodeCount in nodeCounts)
        {
            rows.AddRange(await MeasureAsync(configuration, nodeCount, rounds));
            Console.WriteLine($"  {nodeCount} nodes done");
        }

        Console.WriteLine();
        Console.WriteLine("| nodes | delete on one node, then get on every other node | stale gets after the delete | L1 hits before the delete | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | p50 / p99 vs uncached | targets |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|");
        rows.ForEach(Console.WriteLine);
        Console.WriteLine();

        await L1HitCost.RunAsync(configuration, admin.GetDatabase(), callers, duration);
        Console.WriteLine($"Load average after: {LoadAverage()}");
        return 0;
    }

    private static async Task<IEnumerable<string>> MeasureAsync(string configuration, int nodeCount, int rounds)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var strict = await StartNodesAsync(configuration, $"rev:{run}:strict:", nodeCount, strict: true);
        var eventual = await StartNodesAsync(configuration, $"rev:{run}:eventual:", nodeCount, strict: false);
        await using var uncached = await RevocationNode.StartAsync(configuration, $"rev:{run}:uncached:", strict: null);
        try
        {
            // Every node hears every other's heartbeat (1 s apart) before the first round: all nodes healthy.
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            var random = new Random(nodeCount);
            var strictRounds = new Rounds(rounds);
            var eventualRounds = new Rounds(rounds);
            var uncachedDeletes = new double[rounds];
            for (var round = -WarmupRounds; round < rounds; round++)
            {
                if (round == 0)
                {
                    strict.ForEach(static n => n.Meters.RevocationMilliseconds.Clear());
                }

                await RoundAsync(strict, random, round >= 0 ? strictRounds : null);
                await RoundAsync(eventual, random, round >= 0 ? eventualRounds : null);
                var session = await uncached.Manager.CreateAsync();
                var started = Stopwatch.GetTimestamp();
                if (!await uncached.Manager.DeleteAsync(session.Id))
                {
                    throw new InvalidOperationException("The uncached delete found no session.");
                }

                if (round >= 0)
                {
                    uncachedDeletes[round] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                }
            }

            Array.Sort(uncachedDeletes);
            var revocations = strict.SelectMany(static n => n.Meters.RevocationMilliseconds).ToArray();
            Array.Sort(revocations);
            var nodes = nodeCount.ToString(CultureInfo.InvariantCulture);
            return
            [
                strictRounds.Row(nodes, "strict (default): manager delete = store + revocation", uncachedDeletes, targets: true),
                Row(nodes, "strict: the revocation wait alone (sessionkit.cache.revocation.duration)", "", "", revocations, null, ""),
                eventualRounds.Row(nodes, "eventual (StrictRevocation = false): store + publish", uncachedDeletes, targets: false),
                Row(nodes, "uncached manager delete, store only (baseline)", "", "", uncachedDeletes, null, ""),
            ];
        }
        finally
        {
            foreach (var node in strict.Concat(eventual))
            {
                await node.DisposeAsync();
            }
        }
    }

    private static async Task<List<RevocationNode>> StartNodesAsync(string configuration, string prefix, int count, bool strict)
    {
        var nodes = new List<RevocationNode>(count);
        for (var i = 0; i < count; i++)
        {
            nodes.Add(await RevocationNode.StartAsync(configuration, prefix, strict));
        }

        return nodes;
    }

    private static async Task RoundAsync(List<RevocationNode> nodes, Random random, Rounds? record)
    {
        var creator = random.Next(nodes.Count);
        var id = (await nodes[creator].Manager.CreateAsync()).Id;
        for (var k = 0; k < nodes.Count; k++)
        {
            if (k != creator)
            {
                Found(await nodes[k].Manager.GetAsync(id));
            }
        }

        // Now every node's L1 holds the session: these gets should all be hits.
        var hitsBefore = nodes.Sum(static n => n.Meters.Hits);
        foreach (var node in nodes)
        {
            Found(await node.Manager.GetAsync(id));
        }

        var hits = nodes.Sum(static n => n.Meters.Hits) - hitsBefore;
        var deleter = random.Next(nodes.Count);
        var started = Stopwatch.GetTimestamp();
        if (!await nodes[deleter].Manager.DeleteAsync(id))
        {
            throw new InvalidOperationException("The delete found no session.");
        }

        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var stale = 0;
        for (var k = 0; k < nodes.Count; k++)
        {
            if (k != deleter && (await nodes[k].Manager.GetAsync(id)).IsFound)
            {
                stale++;
            }
        }

        record?.Add(elapsed, hits, nodes.Count, stale, nodes.Count - 1);
    }

    private static void Found(SessionLookupResult result)
    {
        if (!result.IsFound)
        {
            throw new InvalidOperationException("A node did not find a live session.");
        }
    }

    private static string Row(string nodes, string what, string stale, string hits, double[] sorted, double[]? baseline, string targets)
    {
        var vs = baseline is null ? "" : $"{Percentile(sorted, 0.50) / Percentile(baseline, 0.50):0.00}× / {Percentile(sorted, 0.99) / Percentile(baseline, 0.99):0.00}×";
        return sorted.Length == 0
            ? $"| {nodes} | {what} | {stale} | {hits} | n/a | n/a | n/a | n/a | {vs} | {targets} |"
            : string.Create(CultureInfo.InvariantCulture, $"| {nodes} | {what} | {stale} | {hits} | {Percentile(sorted, 0.50):0.000} | {Percentile(sorted, 0.95):0.000} | {Percentile(sorted, 0.99):0.000} | {sorted[^1]:0.000} | {vs} | {targets} |");
    }

    /// <summary>Nearest-rank percentile of a sorted sample.</summary>
    private static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    // The assembly version is 2.0.0.0 for every 2.x; the informational version names the package.
    private static string ClientVersion() =>
        typeof(IDatabase).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "?";

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>The recorded rounds of one mode: delete latencies, L1 hits before the delete and stale gets after it.</summary>
    private sealed class Rounds(int count)
    {
        private readonly double[] _deletes = new double[count];
        private int _recorded;
        private long _hits;
        private long _expectedHits;
        private long _stale;
        private long _staleChecks;

        public void Add(double deleteMilliseconds, long hits, int expectedHits, int stale, int staleChecks)
        {
            _deletes[_recorded++] = deleteMilliseconds;
            _hits += hits;
            _expectedHits += expectedHits;
            _stale += stale;
            _staleChecks += staleChecks;
        }

        public string Row(string nodes, string what, double[] baseline, bool targets)
        {
            var sorted = _deletes[.._recorded];
            Array.Sort(sorted);
            var verdicts = targets
                ? $"0 stale: {Verdict(_stale == 0)}; p99 ≤ 5 ms: {Verdict(Percentile(sorted, 0.99) <= 5)}"
                : string.Empty;
            return StrictRevocation.Row(
                nodes,
                what,
                string.Create(CultureInfo.InvariantCulture, $"{_stale:N0} of {_staleChecks:N0}"),
                string.Create(CultureInfo.InvariantCulture, $"{_hits:N0} of {_expectedHits:N0}"),
                sorted,
                baseline,
                verdicts);
        }

        private static string Verdict(bool met) => met ? "**met**" : "**missed**";
    }
}
