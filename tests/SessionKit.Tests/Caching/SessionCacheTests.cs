using Microsoft.Extensions.Options;
using SessionKit.Caching;
using SessionKit.Stores;

namespace SessionKit.Tests.Caching;

public sealed class SessionCacheTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Start = ManagerHarness.Start;

    private readonly ManagerHarness _harness = new();
    private readonly ManualTimeProvider _time;
    private readonly InMemorySessionStore _memory;
    private readonly GatedStore _store;
    private readonly TestBackplane _backplane = new();

    public SessionCacheTests()
    {
        _time = _harness.Time;
        _memory = _harness.Memory;
        _store = new GatedStore(_memory);
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    private SessionManager CreateManager(Action<SessionCacheOptions>? configure = null, ISessionStore? store = null, ISessionBackplane? backplane = null, TestMeterFactory? meters = null)
    {
        var cache = new SessionCacheOptions { Enabled = true, WriteBehindTouches = false };
        configure?.Invoke(cache);
        return _harness.Create(store ?? _store, static o => o.EnableBackgroundCleanup = false, meterFactory: meters, backplane: backplane ?? _backplane, cache: cache);
    }

    private Task<Session> SeedAsync() => _harness.SeedAsync();

    [Fact]
    public async Task Get_TenThousandConcurrentMissesOfAColdSession_LoadTheStoreOnce()
    {
        var manager = CreateManager();
        var session = await SeedAsync();
        _store.Close();

        var gets = Enumerable.Range(0, 10_000).Select(_ => manager.GetAsync(session.Id, SessionAccessContext.NoSlide).AsTask()).ToArray();
        while (Volatile.Read(ref _store.Waiting) == 0)
        {
            await Task.Delay(1);
        }

        _store.Open();
        var results = await Task.WhenAll(gets);

        results.Should().OnlyContain(r => r.IsFound && r.Session!.Id == session.Id);
        _store.Gets.Should().Be(1);
    }

    [Fact]
    public async Task Get_SecondRead_IsServedFromTheCache()
    {
        var manager = CreateManager();
        var session = await SeedAsync();

        (await manager.GetAsync(session.Id, SessionAccessContext.NoSlide)).IsFound.Should().BeTrue();
        (await manager.GetAsync(session.Id, SessionAccessContext.NoSlide)).IsFound.Should().BeTrue();

        _store.Gets.Should().Be(1);
    }

    [Fact]
    public async Task Get_CacheHit_AllocatesNothing()
    {
        var manager = CreateManager();
        var session = await SeedAsync();
        await manager.GetAsync(session.Id);

        var synchronous = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            var lookup = manager.GetAsync(session.Id);
            synchronous += IsFoundSynchronously(lookup) ? 1 : 0;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        allocated.Should().Be(0);
        synchronous.Should().Be(1000);
        _store.Gets.Should().Be(1);
    }

    private static bool IsFoundSynchronously(ValueTask<SessionLookupResult> lookup) =>
        lookup.IsCompletedSuccessfully && lookup.GetAwaiter().GetResult().IsFound;

    [Fact]
    public async Task Get_InMemoryStore_HasNoCache()
    {
        var manager = CreateManager(store: _memory);

        manager.Caching.Cache.Should().BeNull();
        (await manager.CreateAsync()).Id.Should().NotBeNull();
    }

    [Fact]
    public async Task Get_NotEnabled_HasNoCache()
    {
        var manager = CreateManager(o => o.Enabled = false);
        var session = await SeedAsync();

        await manager.GetAsync(session.Id);
        await manager.GetAsync(session.Id);

        manager.Caching.Cache.Should().BeNull();
        _store.Gets.Should().Be(2);
    }

    [Fact]
    public async Task Delete_OnAnotherManager_InvalidatesThisManagersEntry()
    {
        var a = CreateManager();
        var b = CreateManager();
        var session = await SeedAsync();
        (await a.GetAsync(session.Id)).IsFound.Should().BeTrue();

        (await b.DeleteAsync(session.Id)).Should().BeTrue();

        (await a.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
    }

    [Fact]
    public async Task Update_OnAnotherManager_IsSeenByThisManager()
    {
        var a = CreateManager();
        var b = CreateManager();
        var session = await SeedAsync();
        await a.GetAsync(session.Id);

        await b.UpdateAsync(session.Id, new SessionChanges().SetMetadata("role", "admin"));

        var seen = await a.GetAsync(session.Id);
        seen.Session!.Version.Should().Be(2);
        seen.Session.Metadata["role"].Should().Be("admin");
    }

    [Fact]
    public async Task Update_OnThisManager_WritesThroughTheCache()
    {
        var manager = CreateManager();
        var session = await SeedAsync();
        await manager.GetAsync(session.Id);

        await manager.UpdateAsync(session.Id, new SessionChanges().SetMetadata("k", "v"));
        var seen = await manager.GetAsync(session.Id);

        seen.Session!.Version.Should().Be(2);
        _store.Gets.Should().Be(1);
    }

    [Fact]
    public async Task Invalidation_OlderVersion_IsIgnored()
    {
        var manager = CreateManager();
        var session = await SeedAsync();
        await manager.UpdateAsync(session.Id, new SessionChanges().SetMetadata("k", "v"));
        await manager.GetAsync(session.Id);
        var gets = _store.Gets;

        _backplane.Inject(new SessionBackplaneMessage { SourceId = "other", Action = SessionBackplaneAction.Updated, SessionId = session.Id, Version = 1 });
        await manager.GetAsync(session.Id);

        _store.Gets.Should().Be(gets);
    }

    [Fact]
    public async Task Invalidation_NewerVersion_DropsTheEntry()
    {
        var manager = CreateManager();
        var session = await SeedAsync();
        await manager.GetAsync(session.Id);

        _backplane.Inject(new SessionBackplaneMessage { SourceId = "other", Action = SessionBackplaneAction.Updated, SessionId = session.Id, Version = 2 });
        await manager.GetAsync(session.Id);

        _store.Gets.Should().Be(2);
    }

    [Fact]
    public async Task Load_RacingWithADelete_IsNotCached()
    {
        var a = CreateManager();
        var b = CreateManager(store: new GatedStore(_memory));
        var session = await SeedAsync();
        _store.Close();
        var inFlight = a.GetAsync(session.Id).AsTask();
        while (Volatile.Read(ref _store.Waiting) == 0)
        {
            await Task.Delay(1);
        }

        await b.DeleteAsync(session.Id);
        _store.Open();
        await inFlight;

        (await a.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
    }

    [Fact]
    public async Task Load_FinishingAfterANewerWrite_DoesNotOverwriteIt()
    {
        var cache = new SessionSnapshotCache(new SessionCacheOptions { Enabled = true }, connected: true);
        var v1 = await SeedAsync();
        var v2 = v1 with { Version = 2 };
        var gate = new TaskCompletionSource();
        var load = cache.GetOrLoadAsync(v1.Id, Start, async (g, _, _, _) => { await g.Task; return (Session?)v1; }, gate, CancellationToken.None);

        cache.Put(v2, Start);
        gate.SetResult();
        (await load)!.Version.Should().Be(1);

        cache.TryGet(v1.Id, Start, out var cached).Should().BeTrue();
        cached!.Version.Should().Be(2);
    }

    [Fact]
    public async Task Load_RacingWithAnUpdateOnAnotherNode_IsNotCached()
    {
        var a = CreateManager();
        var b = CreateManager(store: new GatedStore(_memory));
        var session = await SeedAsync();
        _store.Close();
        var inFlight = a.GetAsync(session.Id, SessionAccessContext.NoSlide).AsTask();
        while (Volatile.Read(ref _store.Waiting) == 0)
        {
            await Task.Delay(1);
        }

        await b.UpdateAsync(session.Id, new SessionChanges().SetMetadata("k", "v"));
        _store.Open();
        (await inFlight).Session!.Version.Should().Be(1);

        (await a.GetAsync(session.Id, SessionAccessContext.NoSlide)).Session!.Version.Should().Be(2);
    }

    [Fact]
    public async Task Load_JoinedAfterAnInvalidation_StartsAFreshLoad()
    {
        var a = CreateManager();
        var b = CreateManager(store: new GatedStore(_memory));
        var session = await SeedAsync();
        _store.Close();
        var first = a.GetAsync(session.Id, SessionAccessContext.NoSlide).AsTask();
        while (Volatile.Read(ref _store.Waiting) == 0)
        {
            await Task.Delay(1);
        }

        await b.DeleteAsync(session.Id);
        var second = a.GetAsync(session.Id, SessionAccessContext.NoSlide).AsTask();
        _store.Open();
        await first;

        (await second).Status.Should().Be(SessionLookupStatus.NotFound, "a get that starts after the delete is heard must not join the older load");
    }

    [Fact]
    public async Task Backplane_Disconnected_TurnsTheCacheOffAndNeverServesAMissedDelete()
    {
        var manager = CreateManager();
        var session = await SeedAsync();
        await manager.GetAsync(session.Id);

        _backplane.SetConnected(false);
        await _memory.DeleteAsync(session.Id, _time.GetUtcNow());

        (await manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
    }

    [Fact]
    public async Task Backplane_Disconnected_ReadsTheStoreEveryTime()
    {
        var manager = CreateManager();
        var session = await SeedAsync();
        _backplane.SetConnected(false);

        await manager.GetAsync(session.Id);
        await manager.GetAsync(session.Id);

        _store.Gets.Should().Be(2);
        manager.Caching.Cache!.Count.Should().Be(0);
    }

    [Fact]
    public async Task Backplane_DisconnectedWithAShortEntryDuration_ServesOnlyThatLong()
    {
        var manager = CreateManager(o => { o.StrictRevocation = false; o.DisconnectedEntryDuration = TimeSpan.FromSeconds(2); });
        var session = await SeedAsync();
        _backplane.SetConnected(false);

        await manager.GetAsync(session.Id, SessionAccessContext.NoSlide);
        await manager.GetAsync(session.Id, SessionAccessContext.NoSlide);
        _store.Gets.Should().Be(1);

        _time.Advance(TimeSpan.FromSeconds(2));
        await manager.GetAsync(session.Id, SessionAccessContext.NoSlide);
        _store.Gets.Should().Be(2);
    }

    [Fact]
    public async Task Backplane_Reconnected_FlushesBeforeServingAgain()
    {
        var manager = CreateManager(o => { o.StrictRevocation = false; o.DisconnectedEntryDuration = TimeSpan.FromMinutes(1); });
        var session = await SeedAsync();
        _backplane.SetConnected(false);
        await manager.GetAsync(session.Id, SessionAccessContext.NoSlide);
        await _memory.DeleteAsync(session.Id, _time.GetUtcNow());

        _backplane.SetConnected(true);

        (await manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
    }

    [Fact]
    public async Task Load_StartedBeforeADisconnect_IsNotCached()
    {
        var manager = CreateManager();
        var session = await SeedAsync();
        _store.Close();
        var inFlight = manager.GetAsync(session.Id, SessionAccessContext.NoSlide).AsTask();
        while (Volatile.Read(ref _store.Waiting) == 0)
        {
            await Task.Delay(1);
        }

        _backplane.SetConnected(false);
        _backplane.SetConnected(true);
        _store.Open();
        await inFlight;

        manager.Caching.Cache!.Count.Should().Be(0);
    }

    [Fact]
    public async Task Cache_BeyondMaxEntries_EvictsTheLeastRecentlyUsed()
    {
        var manager = CreateManager(o => o.MaxEntries = 10);
        var sessions = new List<Session>();
        for (var i = 0; i < 30; i++)
        {
            sessions.Add(await SeedAsync());
        }

        foreach (var session in sessions)
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
            await manager.GetAsync(session.Id, SessionAccessContext.NoSlide);
        }

        manager.Caching.Cache!.Count.Should().BeLessThanOrEqualTo(10);
        var gets = _store.Gets;
        await manager.GetAsync(sessions[^1].Id, SessionAccessContext.NoSlide);
        _store.Gets.Should().Be(gets, "the most recently used session stays cached");
    }

    [Fact]
    public async Task Entry_PastEntryDuration_IsReadAgain()
    {
        var manager = CreateManager(o => o.EntryDuration = TimeSpan.FromSeconds(30));
        var session = await SeedAsync();
        await manager.GetAsync(session.Id, SessionAccessContext.NoSlide);

        _time.Advance(TimeSpan.FromSeconds(30));
        await manager.GetAsync(session.Id, SessionAccessContext.NoSlide);

        _store.Gets.Should().Be(2);
    }

    [Fact]
    public async Task Entry_PastSessionExpiry_IsNotServed()
    {
        var manager = CreateManager();
        var session = await SeedAsync();
        await manager.GetAsync(session.Id, SessionAccessContext.NoSlide);

        _time.Advance(session.IdleTimeout);

        (await manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
    }

    [Fact]
    public async Task Cache_Metrics_CountHitsAndMisses()
    {
        using var meters = new TestMeterFactory();
        var manager = CreateManager(meters: meters);
        var session = await SeedAsync();

        await manager.GetAsync(session.Id);
        await manager.GetAsync(session.Id);
        await manager.GetAsync(session.Id);

        meters.Total("sessionkit.cache.misses").Should().Be(1);
        meters.Total("sessionkit.cache.hits").Should().Be(2);
    }

    [Fact]
    public async Task Delete_PublishesOneInvalidation()
    {
        var manager = CreateManager();
        var session = await SeedAsync();

        await manager.DeleteAsync(session.Id);

        _backplane.Published.Should().Be(1);
    }

    [Fact]
    public void Options_Invalid_FailFastInTheConstructor()
    {
        var act = () => CreateManager(o => o.MaxEntries = 0);

        act.Should().Throw<OptionsValidationException>().WithMessage("*MaxEntries*");
    }
}
