using Microsoft.Extensions.Options;
using SessionKit.Caching;
using SessionKit.Redis;
using Xunit.Abstractions;

namespace SessionKit.Tests.Caching;

/// <summary>Restore storms and write-behind touches against a real Redis, two nodes.</summary>
public sealed class RedisRestoreOnMissTests(RedisTestServer redis, ITestOutputHelper output) : IClassFixture<RedisTestServer>, IAsyncLifetime
{
    private readonly string _prefix = RedisTestServer.NewPrefix();
    private readonly List<IAsyncDisposable> _owned = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        await redis.DeletePrefixAsync(_prefix);
    }

    private async Task<RedisNode> NodeAsync(Action<SessionCacheOptions>? configure = null, Action<SessionKitOptions>? configureManager = null)
    {
        var node = await RedisNode.StartAsync(redis.Configuration, _prefix, configure, configureManager);
        _owned.Add(node);
        return node;
    }

    private async Task<Session> SeedAsync()
    {
        // Created by a node without a cache, so both test nodes start cold.
        await using var seeder = new SessionManager(redis.CreateStore(o => o.KeyPrefix = _prefix), Options.Create(new SessionKitOptions { EnableBackgroundCleanup = false }));
        return await seeder.CreateAsync();
    }

    [Fact]
    public async Task RestoreStorm_TenThousandConcurrentGetsPerNode_OneStoreLoadAndOneActivationPerNode()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var activatorA = new CountingActivator();
        var activatorB = new CountingActivator();
        var liveA = new LiveSessionCache<Connection>(a.Manager, a.Manager.Caching, activatorA);
        var liveB = new LiveSessionCache<Connection>(b.Manager, b.Manager.Caching, activatorB);
        _owned.Add(liveA);
        _owned.Add(liveB);
        var session = await SeedAsync();

        var gets = Enumerable.Range(0, 10_000)
            .SelectMany(_ => new[] { liveA.GetAsync(session.Id).AsTask(), liveB.GetAsync(session.Id).AsTask() })
            .ToArray();
        var results = await Task.WhenAll(gets);

        results.Should().OnlyContain(r => r.IsFound);
        a.Counting.Calls("get").Should().Be(1);
        b.Counting.Calls("get").Should().Be(1);
        activatorA.Activations.Should().Be(1);
        activatorB.Activations.Should().Be(1);
        output.WriteLine($"restore storm: 2 x 10,000 concurrent gets -> store loads A={a.Counting.Calls("get")}, B={b.Counting.Calls("get")}; activations A={activatorA.Activations}, B={activatorB.Activations}");
    }

    [Fact]
    public async Task WriteBehind_TenThousandReadsOfAHotSession_FewStoreWrites_FinalFlushOnDispose()
    {
        // A 1 ms touch threshold makes nearly every read due, so the write-behind triggers do all the coalescing.
        var hot = await NodeAsync(o => o.WriteBehindTouches = true, o => o.TouchThreshold = TimeSpan.FromMilliseconds(1));
        var direct = await NodeAsync(o => o.WriteBehindTouches = false, o => o.TouchThreshold = TimeSpan.FromMilliseconds(1));
        var first = await SeedAsync();
        var second = await SeedAsync();

        var lastRead = DateTimeOffset.MinValue;
        for (var i = 0; i < 10_000; i++)
        {
            lastRead = (await hot.Manager.GetAsync(first.Id)).Session!.LastAccessedAt;
            await direct.Manager.GetAsync(second.Id);
        }

        var beforeDispose = hot.Counting.Calls("touch");
        await hot.Manager.DisposeAsync();
        var writeBehind = hot.Counting.Calls("touch");
        var synchronous = direct.Counting.Calls("touch");
        output.WriteLine($"write-behind: 10,000 reads of a hot session -> {writeBehind} store touches ({beforeDispose} before dispose); synchronous touches: {synchronous}");

        writeBehind.Should().BeLessThanOrEqualTo(10_000 / 100 + 10, "one write per 100 accesses (or 5 s), plus the final flush");
        writeBehind.Should().BeGreaterThan(beforeDispose - 1);
        var persisted = await hot.Store.GetAsync(first.Id, DateTimeOffset.UtcNow.AddSeconds(-1));
        persisted!.LastAccessedAt.Should().Be(lastRead, "the final flush on dispose persists the last pending slide");
    }

    public sealed class Connection : IDisposable
    {
        public void Dispose()
        {
        }
    }

    public sealed class CountingActivator : ISessionActivator<Connection>
    {
        private int _activations;

        public int Activations => Volatile.Read(ref _activations);

        public async ValueTask<Connection> ActivateAsync(Session session, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _activations);
            await Task.Delay(20, cancellationToken);
            return new Connection();
        }
    }
}
