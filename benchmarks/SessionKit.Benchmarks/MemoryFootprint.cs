using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using SessionKit.Security;
using SessionKit.Stores;

namespace SessionKit.Benchmarks;

/// <summary>
/// Measures retained bytes per session (id, snapshot, one small state entry, store bookkeeping) in
/// <see cref="InMemorySessionStore"/>, beside a raw <see cref="ConcurrentDictionary{TKey, TValue}"/> of the same
/// snapshots, in the same run. Everything a session owns is built inside the measured region.
/// </summary>
internal static class MemoryFootprint
{
    public static void Run(int count)
    {
        var now = TimeProvider.System.GetUtcNow();
        var raw = Measure(() =>
        {
            var map = new ConcurrentDictionary<string, Session>(StringComparer.Ordinal);
            for (var i = 0; i < count; i++)
            {
                var session = NewSession(now);
                map[session.Id] = session;
            }

            return map;
        });
        var store = Measure(() =>
        {
            var s = new InMemorySessionStore();
            for (var i = 0; i < count; i++)
            {
                s.CreateAsync(NewSession(now), now).Sync();
            }

            return s;
        });

        Console.WriteLine($"| {count.ToString("N0", CultureInfo.InvariantCulture)} sessions, one small state entry each | bytes / session |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine($"| ConcurrentDictionary<string, Session> (baseline) | {raw / count} |");
        Console.WriteLine($"| InMemorySessionStore (with user and expiry indexes) | {store / count} |");
        Console.WriteLine($"| InMemorySessionStore / baseline | {(double)store / raw:F2}x |");
    }

    private static Session NewSession(DateTimeOffset now) =>
        new SessionChanges().SetState("cart", "book").ApplyTo(
            new Session { Id = SessionIds.Generate(), CreatedAt = now, LastAccessedAt = now, IdleTimeout = TimeSpan.FromMinutes(20), AbsoluteExpiresAt = now.AddHours(8), Version = 0 },
            now);

    private static long Measure<T>(Func<T> build)
    {
        var before = Settle();
        var watch = Stopwatch.StartNew();
        var built = build();
        var after = Settle();
        GC.KeepAlive(built);
        Console.Error.WriteLine($"built {typeof(T).Name} in {watch.ElapsedMilliseconds} ms");
        return after - before;
    }

    private static long Settle()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
