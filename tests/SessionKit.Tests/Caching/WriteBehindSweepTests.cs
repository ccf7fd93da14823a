using SessionKit.Caching;
using SessionKit.Stores;

namespace SessionKit.Tests.Caching;

/// <summary>Write-behind and the sweep agree (DESIGN §12): a session a read reported live is never swept before the slide's expiry.</summary>
public sealed class WriteBehindSweepTests : IAsyncDisposable
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(20);
    private readonly ManagerHarness _harness = new();
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "sessionkit-wb-sweep-" + Guid.NewGuid().ToString("N"));
    private readonly FileSessionStore _store;

    public WriteBehindSweepTests()
    {
        _store = new FileSessionStore(new FileSessionStoreOptions { Directory = _directory, FlushToDisk = false });
    }

    public async ValueTask DisposeAsync()
    {
        await _harness.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private SessionManager Manager(TimeSpan flushInterval) => _harness.Create(
        _store,
        o =>
        {
            o.EnableBackgroundCleanup = false;
            o.IdleTimeout = Idle;
        },
        cache: new SessionCacheOptions { Enabled = true, WriteBehindTouches = true, TouchFlushAccessCount = 1000, TouchFlushInterval = flushInterval });

    [Fact]
    public async Task Cleanup_AfterTheStoredExpiry_KeepsASessionWhosePendingSlideKeepsItLive()
    {
        // The flush interval is longer than the test: only the sweep's own flush can persist the slide.
        var manager = Manager(flushInterval: TimeSpan.FromMinutes(5));
        var session = await manager.CreateAsync();
        _harness.Time.Advance(TimeSpan.FromMinutes(9));
        var read = await manager.GetAsync(session.Id);
        read.Session!.ExpiresAt.Should().Be(session.CreatedAt + TimeSpan.FromMinutes(9) + Idle);
        manager.Caching.PendingTouchCount.Should().Be(1, "the slide is deferred: the stored expiry is 11 minutes away");

        (await manager.CleanupExpiredAsync()).Should().Be(0);
        manager.Caching.PendingTouchCount.Should().Be(0, "the sweep persisted the pending slide before looking for expired sessions");
        (await _store.GetAsync(session.Id, _harness.Time.GetUtcNow()))!.ExpiresAt.Should().Be(read.Session.ExpiresAt);
    }

    [Fact]
    public async Task Read_NearTheStoredExpiry_WritesTheSlideThrough()
    {
        var manager = Manager(flushInterval: TimeSpan.FromMinutes(5));
        var session = await manager.CreateAsync();
        _harness.Time.Advance(TimeSpan.FromMinutes(12));

        var read = await manager.GetAsync(session.Id);

        manager.Caching.PendingTouchCount.Should().Be(0, "the stored expiry is within two flush intervals: deferring could let it lapse on every other node");
        (await _store.GetAsync(session.Id, _harness.Time.GetUtcNow()))!.ExpiresAt.Should().Be(read.Session!.ExpiresAt);

        // Another node sweeping after the old stored expiry finds the session live.
        _harness.Time.Advance(TimeSpan.FromMinutes(9));
        var otherNode = _harness.Create(_store, o => o.EnableBackgroundCleanup = false);
        (await otherNode.CleanupExpiredAsync()).Should().Be(0);
        (await otherNode.GetAsync(session.Id)).IsFound.Should().BeTrue();
    }
}
