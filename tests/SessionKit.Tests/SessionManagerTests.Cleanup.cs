namespace SessionKit.Tests;

public sealed partial class SessionManagerTests
{
    [Fact]
    public async Task CleanupExpired_RemovesOnlyExpiredAndCounts()
    {
        var meters = new TestMeterFactory();
        var manager = CreateManager(o => o.EnableBackgroundCleanup = false, meters: meters);
        for (var i = 0; i < 10; i++)
        {
            await manager.CreateAsync(new SessionCreateOptions { IdleTimeout = TimeSpan.FromMinutes(5) });
        }

        var survivor = await manager.CreateAsync(new SessionCreateOptions { IdleTimeout = TimeSpan.FromMinutes(30) });
        _time.Advance(TimeSpan.FromMinutes(6));

        var removed = await manager.CleanupExpiredAsync();

        removed.Should().Be(10);
        _memory.Count.Should().Be(1);
        (await manager.GetAsync(survivor.Id)).IsFound.Should().BeTrue();
        meters.Total("sessionkit.sessions.expired").Should().Be(10);
    }

    [Fact]
    public async Task CleanupExpired_MoreThanOneBatch_DrainsEverythingDue()
    {
        var manager = CreateManager(o =>
        {
            o.EnableBackgroundCleanup = false;
            o.CleanupBatchSize = 7;
        });
        for (var i = 0; i < 50; i++)
        {
            await manager.CreateAsync();
        }

        _time.Advance(TimeSpan.FromMinutes(21));

        (await manager.CleanupExpiredAsync()).Should().Be(50);
        _memory.Count.Should().Be(0);
    }

    [Fact]
    public async Task BackgroundCleanup_TimerDrivenByTimeProvider_SweepsExpiredSessions()
    {
        var manager = CreateManager(o => o.CleanupInterval = TimeSpan.FromMinutes(1));
        for (var i = 0; i < 5; i++)
        {
            await manager.CreateAsync(new SessionCreateOptions { IdleTimeout = TimeSpan.FromSeconds(150) });
        }

        _time.Advance(TimeSpan.FromMinutes(2));
        _memory.Count.Should().Be(5, "the sweeps at 1 and 2 minutes ran before the sessions were due at 2.5 minutes");

        _time.Advance(TimeSpan.FromMinutes(1));
        await WaitUntilAsync(() => _memory.Count == 0);

        _memory.Count.Should().Be(0);
        _store.Calls("remove_expired").Should().BeGreaterThanOrEqualTo(3);
    }

    [Fact]
    public async Task BackgroundCleanup_Disabled_CreatesNoTimer()
    {
        CreateManager(o => o.EnableBackgroundCleanup = false);

        _time.TimerCount.Should().Be(0);
        _time.Advance(TimeSpan.FromHours(1));
        _store.Calls("remove_expired").Should().Be(0);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Dispose_StopsBackgroundCleanup()
    {
        var manager = CreateManager();
        await manager.CreateAsync(new SessionCreateOptions { IdleTimeout = TimeSpan.FromMinutes(1) });
        _time.ArmedTimerCount.Should().Be(1);

        await manager.DisposeAsync();
        _time.Advance(TimeSpan.FromHours(1));

        _time.ArmedTimerCount.Should().Be(0);
        _store.Calls("remove_expired").Should().Be(0);
        _memory.Count.Should().Be(1);
    }

    [Fact]
    public async Task BackgroundCleanup_StoreFailure_IsLoggedAndRetriedNextInterval()
    {
        var logs = new CapturingLoggerProvider();
        var failing = new FailingSweepStore(_memory) { FailuresLeft = 1 };
        var manager = CreateManager(store: failing, logs: logs);
        await manager.CreateAsync(new SessionCreateOptions { IdleTimeout = TimeSpan.FromMinutes(1) });

        _time.Advance(TimeSpan.FromMinutes(1));
        await WaitUntilAsync(() => logs.Entries.Any(e => e.EventId.Id == 9));
        _memory.Count.Should().Be(1);

        _time.Advance(TimeSpan.FromMinutes(1));
        await WaitUntilAsync(() => _memory.Count == 0);

        logs.Entries.Should().Contain(e => e.EventId.Id == 9 && e.Exception is SessionStoreException);
        _memory.Count.Should().Be(0);
    }

    private sealed class FailingSweepStore(ISessionStore inner) : DelegatingStore(inner)
    {
        public int FailuresLeft { get; set; }

        public override ValueTask<IReadOnlyList<Session>> RemoveExpiredAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken = default)
        {
            if (FailuresLeft-- > 0)
            {
                throw new SessionStoreException(Name, "remove_expired", "simulated outage");
            }

            return Inner.RemoveExpiredAsync(now, maxCount, cancellationToken);
        }
    }
}
