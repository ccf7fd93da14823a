using SessionKit.Caching;
using SessionKit.Stores;

namespace SessionKit.Tests.Caching;

public sealed class WriteBehindTouchTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Start = ManagerHarness.Start;

    private readonly ManagerHarness _harness = new();
    private readonly ManualTimeProvider _time;
    private readonly InMemorySessionStore _memory;
    private readonly GatedStore _store;

    public WriteBehindTouchTests()
    {
        _time = _harness.Time;
        _memory = _harness.Memory;
        _store = new GatedStore(_memory);
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    private SessionManager CreateManager(bool writeBehind = true, int accessCount = 100) =>
        _harness.Create(
            _store,
            static o => o.EnableBackgroundCleanup = false,
            backplane: new InProcessSessionBackplane(),
            cache: new SessionCacheOptions
            {
                Enabled = true,
                WriteBehindTouches = writeBehind,
                TouchFlushAccessCount = accessCount,
                TouchFlushInterval = TimeSpan.FromSeconds(5),
            });

    private Task<Session> SeedAsync() => _harness.SeedAsync();

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        condition().Should().BeTrue();
    }

    [Fact]
    public async Task WriteBehind_TenThousandConcurrentReadsOfAHotSession_PersistTheSlideOnce()
    {
        var manager = CreateManager();
        var session = await SeedAsync();
        await manager.GetAsync(session.Id, SessionAccessContext.NoSlide);
        _time.Advance(TimeSpan.FromMinutes(3));

        var reads = await Task.WhenAll(Enumerable.Range(0, 10_000).Select(_ => Task.Run(() => manager.GetAsync(session.Id).AsTask())));
        await manager.DisposeAsync();

        reads.Should().OnlyContain(r => r.IsFound && r.Session!.LastAccessedAt == Start + TimeSpan.FromMinutes(3));
        _store.Touches.Should().BeInRange(1, 2);
        (await _memory.GetAsync(session.Id, _time.GetUtcNow()))!.LastAccessedAt.Should().Be(Start + TimeSpan.FromMinutes(3));
    }

    [Fact]
    public async Task WriteBehind_TenThousandReadsOverTenMinutes_WriteOncePerTouchWindow()
    {
        var manager = CreateManager();
        var session = await SeedAsync();

        for (var i = 0; i < 10_000; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(60));
            (await manager.GetAsync(session.Id)).IsFound.Should().BeTrue();
        }

        await manager.DisposeAsync();

        // 10 minutes with a 2-minute touch threshold (10% of 20): at most 5 slides (fewer when a background flush
        // lags behind this tight loop and absorbs the next window), none on a request's path, and none lost.
        _store.Touches.Should().BeInRange(1, 6);
        var persisted = await _memory.GetAsync(session.Id, _time.GetUtcNow());
        persisted!.LastAccessedAt.Should().BeOnOrAfter(_time.GetUtcNow() - TimeSpan.FromMinutes(2));
        _store.Gets.Should().BeLessThanOrEqualTo(2, "one load, and one re-read when the 5-minute entry duration ends");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WriteBehind_Dispose_FlushesThePendingSlide(bool synchronous)
    {
        var session = await SeedAsync();
        _time.Advance(TimeSpan.FromMinutes(3));
        var manager = CreateManager();
        await manager.GetAsync(session.Id);
        _store.Touches.Should().Be(0);
        manager.Caching.PendingTouchCount.Should().Be(1);

        if (synchronous)
        {
            manager.Dispose();
        }
        else
        {
            await manager.DisposeAsync();
        }

        _store.Touches.Should().Be(1);
        manager.Caching.PendingTouchCount.Should().Be(0);
        (await _memory.GetAsync(session.Id, _time.GetUtcNow()))!.LastAccessedAt.Should().Be(Start + TimeSpan.FromMinutes(3));
    }

    [Fact]
    public async Task WriteBehind_Read_ReportsTheEffectiveExpiryIncludingThePendingSlide()
    {
        var manager = CreateManager();
        var session = await SeedAsync();
        _time.Advance(TimeSpan.FromMinutes(3));

        var slid = await manager.GetAsync(session.Id);
        _time.Advance(TimeSpan.FromSeconds(1));
        var polled = await manager.GetAsync(session.Id, SessionAccessContext.NoSlide);

        slid.Session!.ExpiresAt.Should().Be(Start + TimeSpan.FromMinutes(23));
        polled.Session!.ExpiresAt.Should().Be(Start + TimeSpan.FromMinutes(23));
        (await _memory.GetAsync(session.Id, _time.GetUtcNow()))!.ExpiresAt.Should().Be(Start + TimeSpan.FromMinutes(20));
    }

    [Fact]
    public async Task WriteBehind_AfterTheFlushInterval_PersistsInTheBackground()
    {
        var manager = CreateManager();
        var session = await SeedAsync();
        _time.Advance(TimeSpan.FromMinutes(3));
        await manager.GetAsync(session.Id);

        _time.Advance(TimeSpan.FromSeconds(5));

        await WaitUntilAsync(() => _store.Touches == 1);
        manager.Caching.PendingTouchCount.Should().Be(0);
    }

    [Fact]
    public async Task WriteBehind_AfterTheAccessCount_PersistsBeforeTheInterval()
    {
        var manager = CreateManager(accessCount: 10);
        var session = await SeedAsync();
        _time.Advance(TimeSpan.FromMinutes(3));

        for (var i = 0; i < 10; i++)
        {
            await manager.GetAsync(session.Id);
        }

        await WaitUntilAsync(() => _store.Touches == 1);
    }

    [Fact]
    public async Task WriteBehind_DeletedSession_IsNeverTouchedAgain()
    {
        var session = await SeedAsync();
        _time.Advance(TimeSpan.FromMinutes(3));
        var manager = CreateManager();
        await manager.GetAsync(session.Id);

        await manager.DeleteAsync(session.Id);
        await manager.DisposeAsync();

        _store.Touches.Should().Be(0);
        manager.Caching.PendingTouchCount.Should().Be(0);
        (await _memory.GetAsync(session.Id, _time.GetUtcNow())).Should().BeNull();
    }

    [Fact]
    public async Task WithoutWriteBehind_ConcurrentReadsOfADueSession_TouchOnTheRequestPath()
    {
        var manager = CreateManager(writeBehind: false);
        var session = await SeedAsync();
        await manager.GetAsync(session.Id, SessionAccessContext.NoSlide);
        _time.Advance(TimeSpan.FromMinutes(3));

        await Task.WhenAll(Enumerable.Range(0, 1000).Select(_ => Task.Run(() => manager.GetAsync(session.Id).AsTask())));

        _store.Touches.Should().BeGreaterThanOrEqualTo(1);
    }
}
