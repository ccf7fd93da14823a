// Load harness for the Redis store: throughput of the manager's get-with-slide against two baselines measured in the
// same run, on the same sessions, over one shared multiplexer:
//   (a) what ASP.NET Core's RedisCache does per access: HMGET absexp sldexp data, then EXPIRE (two dependent commands),
//       on a RedisCache-shaped hash holding the same session as a JSON blob (no deserialization: the stricter baseline);
//   (b) one raw HGETALL of the session hash (no parsing): the ceiling for one read.
// Also: writes per 1,000 reads of one hot session (INFO commandstats), and redis-benchmark's GET at the same concurrency.
//
//   dotnet run -c Release --project benchmarks/SessionKit.Redis.LoadHarness -- [--duration 3] [--rounds 3] [--callers 1,16,64] [--redis 127.0.0.1:6379]
// Each cell is the mean of --rounds runs of --duration seconds; the three access paths alternate within each round so
// background load affects them alike. Without --redis (or SESSIONKIT_TEST_REDIS) it starts its own redis-server.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SessionKit;
using SessionKit.Redis;
using StackExchange.Redis;

var settings = Settings.Parse(args);
await using var server = await RedisProcess.StartAsync(settings.Redis);

// Baselines and the store share this one multiplexer, so they run under the same client conditions.
var multiplexer = await ConnectionMultiplexer.ConnectAsync($"{server.EndPoint},allowAdmin=true,abortConnect=false");
var database = multiplexer.GetDatabase();
var prefix = "harness:" + Guid.NewGuid().ToString("N")[..8] + ":";
await using var store = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { ConnectionMultiplexer = multiplexer, KeyPrefix = prefix }));
await using var manager = new SessionManager(store, Options.Create(new SessionKitOptions { EnableBackgroundCleanup = false }));

const int PoolSize = 1000;
var sessions = new List<Session>(PoolSize);
for (var i = 0; i < PoolSize; i++)
{
    sessions.Add(await CreateSessionAsync(manager, i));
}

// Baseline (a)'s keys: a RedisCache entry per session (absexp, sldexp, data = the same session as a JSON blob).
var cacheKeys = new RedisKey[PoolSize];
var hashKeys = new RedisKey[PoolSize];
for (var i = 0; i < PoolSize; i++)
{
    cacheKeys[i] = prefix + "cache:" + i;
    hashKeys[i] = System.Text.Encoding.UTF8.GetBytes(prefix + "s:" + sessions[i].Id);
    await database.HashSetAsync(cacheKeys[i], [new HashEntry("absexp", -1), new HashEntry("sldexp", TimeSpan.FromMinutes(20).Ticks), new HashEntry("data", SessionSerializer.SerializeToUtf8Bytes(sessions[i]))]);
}

var sample = await database.HashGetAllAsync(hashKeys[0]);
Console.WriteLine($"Redis {server.Version} on {server.EndPoint}; StackExchange.Redis {typeof(IDatabase).Assembly.GetName().Version}; {Environment.ProcessorCount} CPUs; .NET {Environment.Version}");
Console.WriteLine($"Sessions: {PoolSize}, each a hash of {sample.Length} fields, {sessions[0].GetStateSize()} bytes of state; {settings.Rounds} rounds of {settings.Duration.TotalSeconds:F0} s per cell, interleaved.");
Console.WriteLine($"Load average before: {LoadAverage()} (client, server and anything else share these CPUs)");
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
    for (var round = 0; round < settings.Rounds; round++)
    {
        for (var o = 0; o < ops.Length; o++)
        {
            totals[o] += await MeasureAsync(ops[o].Access, callers, settings.Duration);
        }
    }

    var perSecond = totals.Select(t => t / settings.Rounds).ToArray();
    var (reads, writes) = await HotSessionWritesAsync(multiplexer, store, manager, callers, settings.Duration);
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
Console.WriteLine($"Load average after: {LoadAverage()}");
await multiplexer.CloseAsync();
return 0;

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

static string F(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

static async Task<Session> CreateSessionAsync(SessionManager manager, int i)
{
    // ~10 hash fields: 8 fixed + metadata + state; ~200 bytes of state.
    var options = new SessionCreateOptions { UserId = "user-" + (i % 100), Kind = "streamable" }
        .WithMetadata("tenant", "tenant-" + (i % 7))
        .WithState("cart", new { items = new[] { "sku-1001", "sku-2002", "sku-3003" }, total = 129.95, currency = "EUR" })
        .WithState("profile", new { name = "Ada Lovelace", locale = "en-GB", theme = "dark", flags = new[] { "beta", "mfa" } })
        .WithState("step", 3);
    return await manager.CreateAsync(options);
}

static async Task<double> MeasureAsync(Func<int, Task> access, int callers, TimeSpan duration)
{
    // Warm up, then count completed accesses of all callers for the duration.
    await RunAsync(access, callers, TimeSpan.FromMilliseconds(300));
    var count = await RunAsync(access, callers, duration);
    return count / duration.TotalSeconds;
}

static async Task<long> RunAsync(Func<int, Task> access, int callers, TimeSpan duration)
{
    long total = 0;
    var stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
    var loops = Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
    {
        var random = new Random(c);
        long done = 0;
        while (Stopwatch.GetTimestamp() < stopAt)
        {
            await access(random.Next(PoolSize));
            done++;
        }

        Interlocked.Add(ref total, done);
    }));
    await Task.WhenAll(loops);
    return total;
}

static async Task<(long Reads, long Writes)> HotSessionWritesAsync(IConnectionMultiplexer multiplexer, ISessionStore store, SessionManager manager, int callers, TimeSpan duration)
{
    // One hot session, last slid outside the touch threshold: every caller hammers it for the duration.
    var template = await CreateSessionAsync(manager, 0);
    var stale = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()) - TimeSpan.FromMinutes(3);
    var hot = template with { Id = System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), CreatedAt = stale, LastAccessedAt = stale };
    await store.CreateAsync(hot, stale);
    var db = multiplexer.GetDatabase();
    await db.ExecuteAsync("CONFIG", "RESETSTAT");
    var stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
    await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
    {
        while (Stopwatch.GetTimestamp() < stopAt)
        {
            await manager.GetAsync(hot.Id);
        }
    })));
    var stats = CommandStats((string)(await db.ExecuteAsync("INFO", "commandstats"))!);
    long Calls(string name) => stats.TryGetValue(name, out var calls) ? calls : 0;

    // Client-issued writes: script calls plus plain write commands (the get path issues none of the latter).
    return (Calls("hgetall"), Calls("evalsha") + Calls("eval") + Calls("zadd") + Calls("zrem") + Calls("expire") + Calls("del"));
}

static Dictionary<string, long> CommandStats(string info)
{
    var calls = new Dictionary<string, long>(StringComparer.Ordinal);
    foreach (var line in info.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
    {
        if (line.StartsWith("cmdstat_", StringComparison.Ordinal))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var fields = line[(colon + 1)..].Split(',').Select(static f => f.Split('=')).ToDictionary(static f => f[0], static f => f[1], StringComparer.Ordinal);
            var failed = fields.TryGetValue("failed_calls", out var f) ? long.Parse(f, CultureInfo.InvariantCulture) : 0;
            calls[line[8..colon]] = long.Parse(fields["calls"], CultureInfo.InvariantCulture) - failed;
        }
    }

    return calls;
}
