using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using SessionKit.Redis;
using SessionKit.Redis.Internal;
using Xunit.Abstractions;

namespace SessionKit.Tests.Cluster;

/// <summary>
/// Slots move between masters (<c>redis-cli --cluster reshard</c>) while callers create and update sessions: the
/// client follows <c>MOVED</c> and <c>ASK</c>, and no write the store acknowledged is lost.
/// </summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterReshardTests(RedisClusterFixture cluster, ITestOutputHelper output) : IAsyncLifetime
{
    private const int Callers = 4;
    private const int SlotsToMove = 200;
    private const int RoundTrips = 2;
    private const int PreloadPerCaller = 100;
    private const int PoolSize = 2000;
    private const int MaxIdTries = 1_000_000;
    private static readonly TimeSpan ReshardTimeout = TimeSpan.FromSeconds(30);

    private readonly string _prefix = RedisTestServer.NewPrefix();
    private readonly DateTimeOffset _t0 = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => cluster.DeletePrefixAsync(_prefix);

    [Fact]
    public async Task ReshardingBackAndForthWhileFourCallersWrite_LosesNoAcknowledgedWrite()
    {
        // redis-cli moves the source's lowest slots. The source is the master that serves slot 0, so the slots that
        // went to the target are then its lowest, and the reshard back returns exactly those.
        var layout = new List<(string EndPoint, List<int> Slots)>();
        foreach (var endPoint in cluster.EndPoints)
        {
            layout.Add((endPoint, await RedisClusterFixture.SlotsAsync(endPoint)));
        }

        var source = layout.Single(static m => m.Slots.Count > 0 && m.Slots[0] == 0).EndPoint;
        var target = layout.First(m => m.EndPoint != source && m.Slots.Count > 0).EndPoint;

        // Most sessions are made to live in the moving slots, so the load meets the migration rather than the 1 % of
        // keys that would land there by chance.
        var moving = layout.Single(m => m.EndPoint == source).Slots.Take(SlotsToMove).ToHashSet();
        var keys = new RedisKeyspace(_prefix);
        var movingIds = IdsIn(keys, moving);
        keys.TrySessionKey("probe", out var probe).Should().BeTrue();
        HashSlot(probe).Should().Be(cluster.Multiplexer.HashSlot(probe), "the test computes slots as the client does");

        // The load runs on its own multiplexer, as an application's would.
        await using var store = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { Configuration = cluster.Configuration, KeyPrefix = _prefix }));
        var acknowledged = new ConcurrentDictionary<string, (long Version, int Value)>(StringComparer.Ordinal);
        long operations = 0;
        long failures = 0;
        var failureMessages = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        using var preloaded = new CountdownEvent(Callers);

        async Task CallAsync(int caller)
        {
            var random = new Random(caller);
            var mine = new List<(string Id, int Attempt)>();
            while (!stop.IsCancellationRequested)
            {
                if (mine.Count == PreloadPerCaller && !preloaded.IsSet)
                {
                    preloaded.Signal();
                }

                try
                {
                    if (mine.Count < PreloadPerCaller || random.Next(4) == 0)
                    {
                        string? chosen = null;
                        if (mine.Count < PreloadPerCaller || random.Next(4) != 0)
                        {
                            movingIds.TryDequeue(out chosen);
                        }

                        var session = NewSession(chosen ?? Guid.NewGuid().ToString("N"));
                        if (await store.CreateAsync(session, _t0, CancellationToken.None))
                        {
                            acknowledged[session.Id] = (1, 0);
                            mine.Add((session.Id, 0));
                        }
                    }
                    else
                    {
                        var pick = random.Next(mine.Count);
                        var (id, attempt) = mine[pick];

                        // Every attempt writes a new value, so a failed attempt that was applied after all still
                        // leaves a value at least the last acknowledged one.
                        mine[pick] = (id, ++attempt);
                        var result = await store.UpdateAsync(id, new SessionChanges().SetMetadata("n", attempt.ToString(CultureInfo.InvariantCulture)), _t0, 1024 * 1024, CancellationToken.None);
                        result.Status.Should().Be(SessionUpdateStatus.Updated);
                        acknowledged[id] = (result.Session!.Version, attempt);
                    }
                }
                catch (SessionStoreException ex)
                {
                    // Not acknowledged: it may or may not have been applied.
                    if (Interlocked.Increment(ref failures) <= 3)
                    {
                        failureMessages.Enqueue(ex.Message);
                    }
                }

                Interlocked.Increment(ref operations);
            }
        }

        var load = Enumerable.Range(0, Callers).Select(c => Task.Run(() => CallAsync(c))).ToArray();
        var ready = await Task.Run(() => preloaded.Wait(TimeSpan.FromSeconds(20)));
        if (!ready)
        {
            // A caller that stopped on an unexpected exception: show that, not the timeout.
            await Task.WhenAll(load.Where(static t => t.IsFaulted));
        }

        ready.Should().BeTrue("every caller creates its first sessions");
        await cluster.ResetStatsAsync();
        var moved = 0;
        long duringMigration = 0;
        var migrating = TimeSpan.Zero;
        try
        {
            for (var trip = 0; trip < RoundTrips; trip++)
            {
                foreach (var (from, to) in new[] { (source, target), (target, source) })
                {
                    var before = Interlocked.Read(ref operations);
                    var started = Stopwatch.GetTimestamp();
                    moved += await cluster.ReshardAsync(from, to, SlotsToMove, ReshardTimeout);
                    migrating += Stopwatch.GetElapsedTime(started);
                    duringMigration += Interlocked.Read(ref operations) - before;
                }
            }

            await Task.Delay(200);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(load);
        }

        var movedReplies = await cluster.ErrorCountAsync("MOVED");
        var askReplies = await cluster.ErrorCountAsync("ASK");
        var inMovedSlots = acknowledged.Keys.Count(id => keys.TrySessionKey(id, out var key) && moving.Contains(HashSlot(key)));
        var slotsHeld = acknowledged.Keys.Select(id => keys.TrySessionKey(id, out var key) ? HashSlot(key) : -1).Where(moving.Contains).Distinct().Count();
        var lost = new List<string>();
        foreach (var (id, expected) in acknowledged)
        {
            var session = await store.GetAsync(id, _t0);
            var value = session is null ? -1 : session.Metadata.TryGetValue("n", out var n) ? int.Parse(n, CultureInfo.InvariantCulture) : 0;
            if (session is null || session.Version < expected.Version || value < expected.Value)
            {
                lost.Add($"v{expected.Version}/n{expected.Value} read as {(session is null ? "absent" : $"v{session.Version}/n{value}")}");
            }
        }

        output.WriteLine(
            $"{operations} operations by {Callers} callers ({failures} failed, not acknowledged), {duringMigration} of them during "
            + $"{2 * RoundTrips} reshards of {SlotsToMove} slots ({moved} slot moves in {migrating.TotalMilliseconds:F0} ms); "
            + $"{acknowledged.Count} sessions acknowledged, {inMovedSlots} of them in the moved slots (in {slotsHeld} distinct slots); "
            + $"the masters answered MOVED {movedReplies} times and ASK {askReplies} times; {lost.Count} lost");
        foreach (var message in failureMessages)
        {
            output.WriteLine("failed: " + message);
        }

        lost.Should().BeEmpty();
        moved.Should().Be(2 * RoundTrips * SlotsToMove);
        (await RedisClusterFixture.SlotsAsync(source)).Should().Contain(moving, "every slot moved back");
        duringMigration.Should().BePositive("the load must run while slots move");
        movedReplies.Should().BePositive("the load must meet slots that moved");
    }

    /// <summary>
    /// Ids whose session keys hash to the moving slots, lowest slot first (redis-cli moves those first, so the
    /// sessions created first meet the first migrations). Bounded, so a key layout that leaves some slots empty (hash
    /// tags) only makes the pool smaller.
    /// </summary>
    private static ConcurrentQueue<string> IdsIn(RedisKeyspace keys, HashSet<int> moving)
    {
        var bySlot = new SortedDictionary<int, List<string>>();
        var found = 0;
        for (var n = 0; n < MaxIdTries && found < PoolSize; n++)
        {
            var id = n.ToString("x", CultureInfo.InvariantCulture);
            if (keys.TrySessionKey(id, out var key) && moving.Contains(HashSlot(key)))
            {
                var slot = HashSlot(key);
                if (!bySlot.TryGetValue(slot, out var ids))
                {
                    bySlot[slot] = ids = [];
                }

                ids.Add(id);
                found++;
            }
        }

        return new ConcurrentQueue<string>(bySlot.Values.SelectMany(static ids => ids));
    }

    /// <summary>The key's cluster slot (CRC16/XMODEM of the key, or of its first non-empty <c>{…}</c> hash tag, mod 16384).</summary>
    private static int HashSlot(StackExchange.Redis.RedisKey key)
    {
        ReadOnlySpan<byte> bytes = (byte[])key!;
        var open = bytes.IndexOf((byte)'{');
        if (open >= 0)
        {
            var close = bytes[(open + 1)..].IndexOf((byte)'}');
            if (close > 0)
            {
                bytes = bytes.Slice(open + 1, close);
            }
        }

        ushort crc = 0;
        foreach (var b in bytes)
        {
            crc ^= (ushort)(b << 8);
            for (var i = 0; i < 8; i++)
            {
                crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ 0x1021) : (ushort)(crc << 1);
            }
        }

        return crc % 16384;
    }

    private Session NewSession(string id) => new()
    {
        Id = id,
        CreatedAt = _t0,
        LastAccessedAt = _t0,
        IdleTimeout = TimeSpan.FromMinutes(20),
        Version = 1,
        Metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["n"] = "0" },
    };
}
