using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using StackExchange.Redis;

namespace SessionKit.Caching.Benchmarks;

/// <summary>
/// What a strict L1 hit costs beside an uncached manager get (issue 11 §3: ≥ 1.5× at 16 callers for a session with
/// 1 KB of state, or 0 commands per hit). One node with the L1 and the backplane in strict mode and one uncached
/// manager read the same pool of sessions; their runs alternate (ABBA). Each run's store commands come from
/// INFO commandstats (reset before it), the backplane's own publishes (heartbeats) counted apart; the hits come
/// from the node's sessionkit.cache.hits.
/// </summary>
internal static class L1HitCost
{
    private const int PoolSize = 1000;
    private const int Alternations = 2;

    public static async Task RunAsync(string configuration, IDatabase admin, int[] callersList, TimeSpan duration)
    {
        var prefix = "l1:" + Guid.NewGuid().ToString("N")[..8] + ":";
        await using var cached = await RevocationNode.StartAsync(configuration, prefix, strict: true);
        await using var uncached = await RevocationNode.StartAsync(configuration, prefix, strict: null);
        var state = JsonSerializer.SerializeToElement(new
        {
            items = Enumerable.Range(1, 12).Select(n => new { sku = "sku-" + (1000 + n), title = "Item number " + n + " in the cart", quantity = n, price = 9.95 + n }).ToArray(),
            currency = "EUR",
        });
        var ids = new string[PoolSize];
        for (var i = 0; i < PoolSize; i++)
        {
            ids[i] = (await uncached.Manager.CreateAsync(new SessionCreateOptions { UserId = "user-" + i }.WithState("cart", state))).Id;
        }

        var size = (await uncached.Manager.GetAsync(ids[0])).Session!.GetStateSize();
        foreach (var id in ids)
        {
            Found(await cached.Manager.GetAsync(id));
        }

        // The lone node holds a lease once its own heartbeat has come back.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"L1 hit cost: {PoolSize} sessions of {size} bytes of state, every one in the strict node's L1; {Alternations * 2} alternating runs of {duration.TotalSeconds:0.#} s per path (ABBA), each after a warm-up."));
        Console.WriteLine();
        Console.WriteLine("| callers | path | gets/s | ratio | L1 hits per get | store commands per get | backplane publishes per second | targets |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---|");
        Func<int, Task>[] paths =
        [
            async i => Found(await cached.Manager.GetAsync(ids[i])),
            async i => Found(await uncached.Manager.GetAsync(ids[i])),
        ];
        foreach (var callers in callersList)
        {
            var operations = new long[2];
            var seconds = new double[2];
            var storeCommands = new long[2];
            var publishes = new long[2];
            var hits = new long[2];
            for (var round = 0; round < Alternations * 2; round++)
            {
                var p = round is 0 or 3 ? 0 : 1;
                await Load.RunAsync(paths[p], callers, TimeSpan.FromMilliseconds(300), PoolSize);
                await CommandStats.ResetAsync(admin);
                var before = await CommandStats.ReadAsync(admin);
                var hitsBefore = cached.Meters.Hits;
                var started = Stopwatch.GetTimestamp();
                operations[p] += await Load.RunAsync(paths[p], callers, duration, PoolSize);
                seconds[p] += Stopwatch.GetElapsedTime(started).TotalSeconds;
                hits[p] += cached.Meters.Hits - hitsBefore;
                foreach (var (name, (calls, _)) in (await CommandStats.ReadAsync(admin)).Since(before).Commands)
                {
                    if (name is "publish" or "spublish")
                    {
                        publishes[p] += calls;
                    }
                    else if (!CommandStats.IsHousekeeping(name))
                    {
                        storeCommands[p] += calls;
                    }
                }
            }

            var rate = operations.Select((o, p) => o / seconds[p]).ToArray();
            var ratio = rate[0] / rate[1];
            var commandsPerHit = storeCommands[0] / (double)operations[0];
            var verdict = ratio >= 1.5 || storeCommands[0] == 0 ? "**met**" : "**missed**";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {callers} | strict L1 hit (manager + L1 + Redis backplane) | {rate[0]:N0} | {ratio:0.00}× | {hits[0] / (double)operations[0]:0.000} | {commandsPerHit:0.000} ({storeCommands[0]:N0}) | {publishes[0] / seconds[0]:0.0} | ≥ 1.5× or 0 commands per hit: {verdict} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"|  | uncached manager get (baseline) | {rate[1]:N0} | 1.00 | n/a | {storeCommands[1] / (double)operations[1]:0.000} | {publishes[1] / seconds[1]:0.0} |  |"));
        }

        Console.WriteLine();
    }

    private static void Found(SessionLookupResult result)
    {
        if (!result.IsFound)
        {
            throw new InvalidOperationException("A pool session was not found.");
        }
    }
}
