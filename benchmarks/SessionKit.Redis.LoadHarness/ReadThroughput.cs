using System.Globalization;
using Microsoft.Extensions.Options;
using SessionKit;
using SessionKit.Redis;
using StackExchange.Redis;

/// <summary>
/// Read throughput: the manager's get-with-slide against two baselines measured in the same run, on the same sessions,
/// over one shared multiplexer:
///   (a) what ASP.NET Core's RedisCache does per access: HMGET absexp sldexp data, then EXPIRE (two dependent commands),
///       on a RedisCache-shaped hash holding the same session as a JSON blob (no deserialization: the stricter baseline);
///   (b) one raw HGETALL of the session hash (no parsing): the ceiling for one read.
/// Also: writes per 1,000 reads of one hot session, and redis-benchmark's GET at the same concurrency. Each cell is the
/// mean of the rounds; the three access paths alternate within each round so background load affects them alike.
/// </summary>
internal static class ReadThroughput
{
    private const int PoolSize = 1000;

    public static async Task RunAsync(RedisProcess server, IConnectionMultiplexer multiplexer, SentCommands sent, Settings settings)
    {
        var duration = settings.Duration ?? TimeSpan.FromSeconds(3);
        var rounds = settings.Rounds ?? 3;
        var database = multiplexer.GetDatabase();
        var run = Guid.NewGuid().ToString("N")[..8];
        var prefix = "harness:" + run + ":";
        await using var store = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { ConnectionMultiplexer = multiplexer, KeyPrefix = prefix }));
        await using var manager = new SessionManager(store, Options.Create(new SessionKitOptions { EnableBackgroundCleanup = false }));

        var sessions = new List<Session>(PoolSize);
        for (var i = 0; i < PoolSize; i++)
        {
            sessions.Add(await CreateSessionAsync(manager, run, i));
        }

        // Baseline (b) reads the store's own hash of each session, found by scanning, so the layout is not assumed.
        var hashKeys = await SessionKeys.FindAsync(multiplexer, prefix, run, PoolSize);

        // Baseline (a)'s keys: a RedisCache entry per session (absexp, sldexp, data = the same session as a JSON blob).
        var cacheKeys = new RedisKey[PoolSize];
        for (var i = 0; i < PoolSize; i++)
        {
            cacheKeys[i] = "harness-cache:" + run + ":" + i.ToString(CultureInfo.InvariantCulture);
            await database.HashSetAsync(cacheKeys[i], [new HashEntry("absexp", -1), new HashEntry("sldexp", TimeSpan.FromMinutes(20).Ticks), new HashEntry("data", SessionSerializer.SerializeToUtf8Bytes(sessions[i]))]);
        }

        var sample = await database.HashGetAllAsync(hashKeys[0]);
        Console.WriteLine($"## Reads: sessions {PoolSize}, each a hash of {sample.Length} fields, {sessions[0].GetStateSize()} bytes of state; {rounds} rounds of {duration.TotalSeconds:0.#} s per cell, interleaved.");
        Console.WriteLine();

        RedisValue[] cacheFields = ["absexp", "sldexp", "data"];
        var ops = new (string Name, Func<int, Task> Access)[]
        {
            ("(b) raw HGETALL", i => database.HashGetAllAsync(hashKeys[i])),
            ("(a) HMGET + EXPIRE", async i =>
            {
                await database.HashGetAsync(cacheKeys[i], cacheFields);
                await database.KeyExpireAsync(cacheKeys[i], TimeSpan.FromMinutes(20));
            }),
            ("manager get-with-slide", async i =>
            {
                var result = await manager.GetAsync(sessions[i].Id);
                if (!result.IsFound)
                {
                    throw new InvalidOperationException("A pool session was not found.");
                }
            }),
        };

        var rows = new List<string[]>();
        foreach (var callers in settings.Callers)
        {
            var totals = new double[ops.Length];
            for (var round = 0; round < rounds; round++)
            {
                for (var o = 0; o < ops.Length; o++)
                {
                    totals[o] += await Load.MeasureAsync(ops[o].Access, callers, duration, PoolSize);
                }
            }

            var perSecond = totals.Select(t => t / rounds).ToArray();
            var (reads, writes) = await HotSession.MeasureAsync(sent, store, manager, sessions[0], callers, duration);
            var benchmark = await server.RedisBenchmarkGetAsync(callers);
            rows.Add([
                callers.ToString(CultureInfo.InvariantCulture),
                F(perSecond[2]), F(perSecond[1]), F(perSecond[0]),
                (perSecond[2] / perSecond[1]).ToString("0.00", CultureInfo.InvariantCulture) + "×",
                (perSecond[2] / perSecond[0]).ToString("0.00", CultureInfo.InvariantCulture) + "×",
                (writes * 1000.0 / reads).ToString("0.0", CultureInfo.InvariantCulture) + $" ({writes}/{reads})",
                benchmark is null ? "n/a" : F(benchmark.Value),
            ]);
            Console.WriteLine($"  {callers} callers done");
        }

        Console.WriteLine();
        Console.WriteLine("| callers | manager get-with-slide (ops/s) | (a) HMGET+EXPIRE (ops/s) | (b) raw HGETALL (ops/s) | manager / (a) | manager / (b) | writes per 1,000 reads, hot session | redis-benchmark GET (ops/s) |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            Console.WriteLine("| " + string.Join(" | ", row) + " |");
        }

        Console.WriteLine();
    }

    private static string F(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static async Task<Session> CreateSessionAsync(SessionManager manager, string run, int i)
    {
        // ~11 hash fields: 8 fixed + metadata + state; ~200 bytes of state.
        var options = new SessionCreateOptions { UserId = "user-" + (i % 100), Kind = "streamable" }
            .WithMetadata("tenant", "tenant-" + (i % 7))
            .WithMetadata(SessionKeys.MarkerKey, SessionKeys.Marker(run, i))
            .WithState("cart", new { items = new[] { "sku-1001", "sku-2002", "sku-3003" }, total = 129.95, currency = "EUR" })
            .WithState("profile", new { name = "Ada Lovelace", locale = "en-GB", theme = "dark", flags = new[] { "beta", "mfa" } })
            .WithState("step", 3);
        return await manager.CreateAsync(options);
    }
}
