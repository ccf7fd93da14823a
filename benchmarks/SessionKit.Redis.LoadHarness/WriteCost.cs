using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Options;
using SessionKit;
using SessionKit.Redis;
using StackExchange.Redis;

/// <summary>
/// Write cost (issue 11 §4): SessionKit's update, create and get beside the ASP.NET Core Session peer — the real
/// <see cref="RedisCache"/> of Microsoft.Extensions.Caching.StackExchangeRedis, as <c>DistributedSession</c> uses it
/// (<c>GetAsync</c> on load, <c>SetAsync</c> with the idle timeout as sliding expiration on commit) — and a raw
/// HGETALL, all on one multiplexer and one server, at each caller count. Per side: throughput, commands sent by the
/// client (awaited = on the caller's path, from a profiled pass), commands executed by the server and their summed
/// usec (<c>INFO commandstats</c>, reset before every timed run), and the server's process CPU per operation.
/// </summary>
/// <remarks>
/// One "operation" of the update request is what one HTTP request that changes the session costs: SessionKit's
/// manager get then update of one state key, the peer's load then commit of its whole blob. The update call alone
/// (manager update; peer commit) is reported too. The peer writes a prebuilt blob of the same JSON state and never
/// (de)serializes it, so it is the stricter baseline.
/// </remarks>
internal static class WriteCost
{
    private const int PoolSize = 1000;
    private static readonly TimeSpan Warmup = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan ProfiledPass = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(20);

    private static readonly JsonElement[] Carts = [Cart(1), Cart(2)];
    private static readonly JsonElement Profile = JsonSerializer.SerializeToElement(new
    {
        name = "Ada Lovelace",
        email = "ada@example.org",
        locale = "en-GB",
        timeZone = "Europe/London",
        theme = "dark",
        flags = new[] { "beta", "mfa", "newsletter" },
        address = new { street = "12 St James's Square", city = "London", postcode = "SW1Y 4JH", country = "GB" },
        recentlyViewed = new[] { "sku-2001", "sku-2002", "sku-2003", "sku-2004", "sku-2005" },
    });

    public static async Task RunAsync(IConnectionMultiplexer multiplexer, SentCommands sent, Settings settings)
    {
        var duration = settings.Duration ?? TimeSpan.FromSeconds(2);
        var rounds = settings.Rounds ?? 2;
        var database = multiplexer.GetDatabase();
        var run = Guid.NewGuid().ToString("N")[..8];
        var prefix = "harness-w:" + run + ":";
        var createPrefix = "harness-wc:" + run + ":";
        var peerPrefix = "harness-peer:" + run + ":";
        var peerCreatePrefix = "harness-peerc:" + run + ":";

        var managerOptions = Options.Create(new SessionKitOptions { EnableBackgroundCleanup = false, IdleTimeout = IdleTimeout });
        await using var store = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { ConnectionMultiplexer = multiplexer, KeyPrefix = prefix }));
        await using var manager = new SessionManager(store, managerOptions);
        await using var createStore = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { ConnectionMultiplexer = multiplexer, KeyPrefix = createPrefix }));
        await using var createManager = new SessionManager(createStore, managerOptions);

        // Not disposed: RedisCache closes the multiplexer it was handed when disposed.
        var peer = new RedisCache(Options.Create(new RedisCacheOptions { ConnectionMultiplexerFactory = () => Task.FromResult(multiplexer), InstanceName = peerPrefix }));
        var peerCreate = new RedisCache(Options.Create(new RedisCacheOptions { ConnectionMultiplexerFactory = () => Task.FromResult(multiplexer), InstanceName = peerCreatePrefix }));
        var entry = new DistributedCacheEntryOptions { SlidingExpiration = IdleTimeout };
        byte[][] blobs = [Blob(Carts[0]), Blob(Carts[1])];

        var ids = new string[PoolSize];
        var peerKeys = new string[PoolSize];
        Session? sample = null;
        for (var i = 0; i < PoolSize; i++)
        {
            sample = await manager.CreateAsync(NewSession("user-" + i.ToString(CultureInfo.InvariantCulture)).WithMetadata(SessionKeys.MarkerKey, SessionKeys.Marker(run, i)));
            ids[i] = sample.Id;
            peerKeys[i] = i.ToString(CultureInfo.InvariantCulture);
            await peer.SetAsync(peerKeys[i], blobs[0], entry);
        }

        var hashKeys = await SessionKeys.FindAsync(multiplexer, prefix, run, PoolSize);
        var hash = await database.HashGetAllAsync(hashKeys[0]);
        Console.WriteLine($"## Writes: {PoolSize} sessions, each a hash of {hash.Length} fields with {sample!.GetStateSize()} bytes of state (3 keys); the update rewrites the {Carts[0].GetRawText().Length}-byte \"cart\" key; the peer's blob is {blobs[0].Length} bytes. {rounds} rounds of {duration.TotalSeconds:0.#} s per side, sides alternating (ABBA), each after a warm-up.");
        Console.WriteLine();

        var comparisons = new Comparison[]
        {
            new(
                "update request",
                "one request that changes the session: SessionKit's manager get then update of one state key; the peer's load (RedisCache.GetAsync) then commit (SetAsync) of its blob",
                new Side("SessionKit get + update", async i =>
                {
                    Found(await manager.GetAsync(ids[i]));
                    Updated(await manager.UpdateAsync(ids[i], new SessionChanges().SetState("cart", Carts[i & 1])));
                }),
                new Side("peer GetAsync + SetAsync", async i =>
                {
                    _ = await peer.GetAsync(peerKeys[i]) ?? throw new InvalidOperationException("A peer session was not found.");
                    await peer.SetAsync(peerKeys[i], blobs[i & 1], entry);
                }),
                static (sk, peer, _) => $"sent ≤ 2: {Verdict(sk.Sent.AwaitedPerOperation <= 2 + 1e-9)}; µs/op ≤ peer: {UsecVerdict(sk, peer)}"),
            new(
                "update call alone",
                "SessionKit's manager update of one state key; the peer's commit (RedisCache.SetAsync) of its blob",
                new Side("SessionKit update", async i => Updated(await manager.UpdateAsync(ids[i], new SessionChanges().SetState("cart", Carts[i & 1])))),
                new Side("peer SetAsync", i => peer.SetAsync(peerKeys[i], blobs[i & 1], entry)),
                static (sk, _, _) => $"sent ≤ 2: {Verdict(sk.Sent.AwaitedPerOperation <= 2 + 1e-9)}"),
            new(
                "create",
                "SessionKit's manager create with a user id and the state; the peer's RedisCache.SetAsync of its blob under a new key",
                new Side(
                    "SessionKit create",
                    async _ => await createManager.CreateAsync(NewSession("user-" + Random.Shared.Next(100_000).ToString(CultureInfo.InvariantCulture))),
                    () => DeleteUnderAsync(multiplexer, createPrefix)),
                new Side(
                    "peer SetAsync, new key",
                    _ => peerCreate.SetAsync(Guid.NewGuid().ToString(), blobs[0], entry),
                    () => DeleteUnderAsync(multiplexer, peerCreatePrefix)),
                static (sk, peer, _) => $"sent ≤ 2: {Verdict(sk.Sent.AwaitedPerOperation <= 2 + 1e-9)}; µs/op ≤ peer: {UsecVerdict(sk, peer)}"),
            new(
                "get",
                "SessionKit's manager get (with slide) of a pool session; a raw HashGetAllAsync of the same session's hash on the same multiplexer",
                new Side("SessionKit get", async i => Found(await manager.GetAsync(ids[i]))),
                new Side("raw HGETALL", i => database.HashGetAllAsync(hashKeys[i])),
                static (sk, raw, touches) =>
                    $"1 sent per get: {Verdict(sk.Sent.AwaitedPerOperation <= 1 + 1e-9 && sk.Sent.FireAndForget.Count == 0)}; ≥ 0.95× raw: {Verdict(sk.OperationsPerSecond >= 0.95 * raw.OperationsPerSecond)}; ≤ 1 touch per window (hot session, 1 s): {Verdict(touches <= 1)} ({touches} write commands)"),
        };

        var results = comparisons.Select(static _ => new List<(int Callers, SideCost SessionKit, SideCost Peer, string Targets)>()).ToArray();
        foreach (var callers in settings.Callers)
        {
            for (var c = 0; c < comparisons.Length; c++)
            {
                var (sk, peerCost) = await MeasureCellAsync(comparisons[c], callers, duration, rounds, database, sent);
                long touches = 0;
                if (comparisons[c].Title == "get")
                {
                    (_, touches) = await HotSession.MeasureAsync(sent, store, manager, sample, callers, TimeSpan.FromSeconds(1));
                }

                results[c].Add((callers, sk, peerCost, comparisons[c].Targets(sk, peerCost, touches)));
            }

            Console.WriteLine($"  {callers} callers done");
        }

        Console.WriteLine();
        for (var c = 0; c < comparisons.Length; c++)
        {
            Console.WriteLine($"**{comparisons[c].Title}**: {comparisons[c].Description}.");
            Console.WriteLine();
            Console.WriteLine("| callers | side | ops/s | ratio | sent/op | executed/op | Redis µs/op (Σ usec) | Redis µs/op (inner once, est.) | server CPU µs/op | targets |");
            Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|");
            foreach (var (callers, sk, peerCost, targets) in results[c])
            {
                Row(callers.ToString(CultureInfo.InvariantCulture), comparisons[c].SessionKit.Name, sk, (sk.OperationsPerSecond / peerCost.OperationsPerSecond).ToString("0.00", CultureInfo.InvariantCulture) + "×", targets);
                Row(string.Empty, comparisons[c].Peer.Name, peerCost, "1.00", string.Empty);
            }

            Console.WriteLine();
            foreach (var (callers, sk, peerCost, _) in results[c])
            {
                Console.WriteLine($"- {callers} callers, {comparisons[c].SessionKit.Name}: {sk.Describe()}");
                Console.WriteLine($"- {callers} callers, {comparisons[c].Peer.Name}: {peerCost.Describe()}");
            }

            Console.WriteLine();
        }

        Console.WriteLine("sent/op: commands the client sent and awaited per operation (the caller's path; + fire-and-forget ones), from a profiled pass. executed/op, Redis µs/op: INFO commandstats calls and usec per operation; a script's inner commands are counted as commands of their own and their time counts in them and in the script (Σ usec), or once (inner once: the calls beyond those sent are taken as inner, at the command's mean usec). server CPU µs/op: the redis-server process's user + system CPU (INFO cpu), network I/O included.");
        Console.WriteLine();
    }

    private static void Row(string callers, string side, SideCost cost, string ratio, string targets) =>
        Console.WriteLine("| " + string.Join(" | ", [
            callers, side, F0(cost.OperationsPerSecond), ratio,
            cost.Sent.FireAndForget.Count == 0 ? F2(cost.Sent.AwaitedPerOperation) : $"{F2(cost.Sent.AwaitedPerOperation)} + {F2(cost.Sent.FireAndForgetPerOperation)} F&F",
            F2(cost.ExecutedPerOperation), F1(cost.UsecPerOperation), F1(cost.UsecInnerOncePerOperation), F1(cost.CpuMicrosecondsPerOperation), targets,
        ]) + " |");

    private static string UsecVerdict(SideCost sessionKit, SideCost peer) =>
        $"{Verdict(sessionKit.UsecPerOperation <= peer.UsecPerOperation)} (Σ), {Verdict(sessionKit.UsecInnerOncePerOperation <= peer.UsecInnerOncePerOperation)} (inner once)";

    private static async Task<(SideCost SessionKit, SideCost Peer)> MeasureCellAsync(Comparison comparison, int callers, TimeSpan duration, int rounds, IDatabase database, SentCommands sent)
    {
        Side[] sides = [comparison.SessionKit, comparison.Peer];
        SideCost[] costs = [new(), new()];
        for (var s = 0; s < sides.Length; s++)
        {
            await Load.RunAsync(sides[s].Access, callers, Warmup, PoolSize);
            costs[s].Sent = await sent.CountAsync(() => Load.RunAsync(sides[s].Access, callers, ProfiledPass, PoolSize));
            await sides[s].CleanUp();
        }

        for (var round = 0; round < rounds; round++)
        {
            foreach (var s in round % 2 == 0 ? [0, 1] : new[] { 1, 0 })
            {
                await Load.RunAsync(sides[s].Access, callers, Warmup, PoolSize);
                await CommandStats.ResetAsync(database);
                var before = await CommandStats.ReadAsync(database);
                var started = Stopwatch.GetTimestamp();
                var operations = await Load.RunAsync(sides[s].Access, callers, duration, PoolSize);
                var elapsed = Stopwatch.GetElapsedTime(started);
                var after = await CommandStats.ReadAsync(database);
                costs[s].Add(operations, elapsed, after.Since(before));
                await sides[s].CleanUp();
            }
        }

        return (costs[0], costs[1]);
    }

    private static SessionCreateOptions NewSession(string userId) =>
        new SessionCreateOptions { UserId = userId }
            .WithState("cart", Carts[0])
            .WithState("profile", Profile)
            .WithState("step", 3);

    private static JsonElement Cart(int quantity) => JsonSerializer.SerializeToElement(new
    {
        items = Enumerable.Range(1, 7).Select(n => new { sku = "sku-" + (1000 + n), title = "Item number " + n + " in the cart", quantity, price = 9.95 + n }).ToArray(),
        total = 129.95,
        currency = "EUR",
        coupon = "SPRING-2026",
    });

    private static byte[] Blob(JsonElement cart) => JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, JsonElement>
    {
        ["cart"] = cart,
        ["profile"] = Profile,
        ["step"] = JsonSerializer.SerializeToElement(3),
    });

    private static async Task DeleteUnderAsync(IConnectionMultiplexer multiplexer, string prefix)
    {
        var server = multiplexer.GetServer(multiplexer.GetEndPoints()[0]);
        var database = multiplexer.GetDatabase();
        var batch = new List<RedisKey>(1000);
        await foreach (var key in server.KeysAsync(pattern: prefix + "*", pageSize: 1000))
        {
            batch.Add(key);
            if (batch.Count == 1000)
            {
                await database.KeyDeleteAsync([.. batch]);
                batch.Clear();
            }
        }

        if (batch.Count > 0)
        {
            await database.KeyDeleteAsync([.. batch]);
        }
    }

    private static void Found(SessionLookupResult result)
    {
        if (!result.IsFound)
        {
            throw new InvalidOperationException("A pool session was not found.");
        }
    }

    private static void Updated(SessionUpdateResult result)
    {
        if (result.Status != SessionUpdateStatus.Updated)
        {
            throw new InvalidOperationException($"An update answered {result.Status}.");
        }
    }

    private static string Verdict(bool met) => met ? "**met**" : "**missed**";

    private static string F0(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string F1(double value) => value.ToString("0.0", CultureInfo.InvariantCulture);

    private static string F2(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>One access path of a cell, and what to remove after each of its runs (creates pile up otherwise).</summary>
    private sealed record Side(string Name, Func<int, Task> Access, Func<Task>? CleanUpAsync = null)
    {
        public Task CleanUp() => CleanUpAsync?.Invoke() ?? Task.CompletedTask;
    }

    /// <summary>A SessionKit side and the side it is measured against, and how the pair reads against the targets.</summary>
    private sealed record Comparison(string Title, string Description, Side SessionKit, Side Peer, Func<SideCost, SideCost, long, string> Targets);
}
