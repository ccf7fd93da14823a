using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.Options;
using SessionKit.Security;
using SessionKit.Stores;

namespace SessionKit.Benchmarks;

/// <summary>
/// The in-memory store's hot paths beside the raw primitive it is built on: a <see cref="ConcurrentDictionary{TKey, TValue}"/>
/// of immutable snapshots. Ratios read as "cost of the store's guarantees" (expiry checks, compare-and-swap, per-key merge).
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class InMemoryStoreBenchmarks
{
    private const int Sessions = 10_000;

    private readonly ConcurrentDictionary<string, Session> _raw = new(StringComparer.Ordinal);
    private readonly InMemorySessionStore _store = new();
    private readonly SessionChanges _change = new SessionChanges().SetState("counter", 42);
    private SessionManager _manager = null!;
    private string[] _ids = null!;
    private DateTimeOffset _now;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _now = TimeProvider.System.GetUtcNow();
        _ids = new string[Sessions];
        for (var i = 0; i < Sessions; i++)
        {
            var session = new SessionChanges().SetState("cart", "book").ApplyTo(
                new Session { Id = SessionIds.Generate(), CreatedAt = _now, LastAccessedAt = _now, IdleTimeout = TimeSpan.FromHours(1), Version = 0 },
                _now);
            _ids[i] = session.Id;
            _raw[session.Id] = session;
            _store.CreateAsync(session, _now).AsTask().GetAwaiter().GetResult();
        }

        _manager = new SessionManager(_store, Options.Create(new SessionKitOptions { IdleTimeout = TimeSpan.FromHours(1), EnableBackgroundCleanup = false }));
    }

    [GlobalCleanup]
    public void Cleanup() => _manager.Dispose();

    private string NextId() => _ids[_next++ % Sessions];

    [Benchmark(Baseline = true, Description = "ConcurrentDictionary get (baseline)")]
    [BenchmarkCategory("get")]
    public Session? RawGet() => _raw.TryGetValue(NextId(), out var s) && s.IsLiveAt(_now) ? s : null;

    [Benchmark(Description = "InMemorySessionStore.GetAsync hit")]
    [BenchmarkCategory("get")]
    public Session? StoreGet() => _store.GetAsync(NextId(), _now).Sync();

    [Benchmark(Description = "SessionManager.GetAsync with slide")]
    [BenchmarkCategory("get")]
    public SessionLookupResult ManagerGet() => _manager.GetAsync(NextId()).Sync();

    [Benchmark(Baseline = true, Description = "ConcurrentDictionary replace (touch baseline)")]
    [BenchmarkCategory("touch")]
    public bool RawTouch()
    {
        var id = NextId();
        var current = _raw[id];
        return _raw.TryUpdate(id, current with { LastAccessedAt = _now }, current);
    }

    [Benchmark(Description = "InMemorySessionStore.TouchAsync")]
    [BenchmarkCategory("touch")]
    public bool StoreTouch() => _store.TouchAsync(NextId(), _now.AddTicks(++_next)).Sync();

    [Benchmark(Baseline = true, Description = "ConcurrentDictionary merge (update baseline)")]
    [BenchmarkCategory("update")]
    public bool RawUpdate()
    {
        var id = NextId();
        var current = _raw[id];
        return _raw.TryUpdate(id, _change.ApplyTo(current, _now), current);
    }

    [Benchmark(Description = "InMemorySessionStore.UpdateAsync")]
    [BenchmarkCategory("update")]
    public SessionUpdateResult StoreUpdate() => _store.UpdateAsync(NextId(), _change, _now, 1024 * 1024).Sync();
}
