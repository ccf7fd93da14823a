using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Options;
using SessionKit.Redis;

namespace SessionKit.Caching.Benchmarks;

/// <summary>
/// The restore-on-miss L1 beside the primitive it saves: a Redis read (RedisSessionStore.GetAsync, one HGETALL on
/// loopback). Ratios read as "how much faster a cached access is than going to Redis".
/// </summary>
[MemoryDiagnoser]
public class L1CacheBenchmarks
{
    private LocalRedis _redis = null!;
    private RedisSessionStore _store = null!;
    private RedisSessionBackplane _backplane = null!;
    private SessionManager _cached = null!;
    private string _id = null!;

    [GlobalSetup]
    public void Setup()
    {
        _redis = new LocalRedis();
        var configuration = _redis.EndPoint + ",abortConnect=false";
        _store = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { Configuration = configuration, KeyPrefix = "bench:" }));
        _backplane = new RedisSessionBackplane(Options.Create(new RedisSessionBackplaneOptions { Configuration = configuration, Channel = "bench:backplane" }));
        var deadline = Environment.TickCount64 + 10_000;
        while (!_backplane.IsConnected && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(10);
        }

        _cached = new SessionManager(
            _store,
            Options.Create(new SessionKitOptions
            {
                EnableBackgroundCleanup = false,
                IdleTimeout = TimeSpan.FromHours(1),
                Cache = new SessionCacheOptions { Enabled = true, EntryDuration = TimeSpan.FromHours(1) },
            }),
            backplane: _backplane);
        _id = _cached.CreateAsync(new SessionCreateOptions().WithState("cart", new[] { "book", "pen" })).AsTask().GetAwaiter().GetResult().Id;
        _cached.GetAsync(_id).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cached.Dispose();
        _backplane.Dispose();
        _store.Dispose();
        _redis.Dispose();
    }

    [Benchmark(Baseline = true, Description = "RedisSessionStore.GetAsync (Redis get, baseline)")]
    public async Task<Session?> RedisGet() => await _store.GetAsync(_id, TimeProvider.System.GetUtcNow());

    [Benchmark(Description = "SessionManager.GetAsync, L1 hit (slides, touch not due)")]
    public SessionLookupResult L1Hit()
    {
        var lookup = _cached.GetAsync(_id);
        return lookup.IsCompletedSuccessfully ? lookup.Result : lookup.AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Description = "SessionManager.GetAsync, L1 hit, no slide")]
    public SessionLookupResult L1HitNoSlide()
    {
        var lookup = _cached.GetAsync(_id, SessionAccessContext.NoSlide);
        return lookup.IsCompletedSuccessfully ? lookup.Result : lookup.AsTask().GetAwaiter().GetResult();
    }
}
