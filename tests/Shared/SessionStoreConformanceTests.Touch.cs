using static SessionKit.Tests.SessionAssertions;

namespace SessionKit.Tests;

public abstract partial class SessionStoreConformanceTests
{
    [Fact]
    public async Task TouchAsync_Live_ReturnsTrueAndSetsLastAccessedAtToNow()
    {
        var session = await CreateLiveAsync(NewRichSession());
        var now = T0 + TimeSpan.FromMinutes(10);

        var touched = await Store.TouchAsync(session.Id, now);

        touched.Should().BeTrue();
        var loaded = await Store.GetAsync(session.Id, now);
        loaded!.LastAccessedAt.Should().Be(now);
        loaded.CreatedAt.Should().Be(session.CreatedAt);
    }

    [Fact]
    public async Task TouchAsync_Live_LeavesVersionAndDataUnchanged()
    {
        var session = await CreateLiveAsync(NewRichSession());
        var now = T0 + TimeSpan.FromMinutes(10);

        await Store.TouchAsync(session.Id, now);

        (await Store.GetAsync(session.Id, now)).ShouldEqualSnapshot(session with { LastAccessedAt = now }, "a touch only slides");
    }

    [Fact]
    public async Task TouchAsync_Live_MovesExpiryByStoredIdleTimeout()
    {
        var idle = TimeSpan.FromMinutes(17);
        var session = await CreateLiveAsync(NewSession(idleTimeout: idle));
        var now = T0 + TimeSpan.FromMinutes(10);

        await Store.TouchAsync(session.Id, now);

        var loaded = await Store.GetAsync(session.Id, now + idle - Ms(1));
        loaded.Should().NotBeNull("the expiry moved to the touch time plus the stored idle timeout");
        loaded!.ExpiresAt.Should().Be(now + idle);
        (await Store.GetAsync(session.Id, now + idle)).Should().BeNull();
    }

    [Fact]
    public async Task TouchAsync_NearAbsoluteExpiry_IsCappedByAbsoluteExpiry()
    {
        var cap = T0 + TimeSpan.FromMinutes(30);
        var session = await CreateLiveAsync(NewSession(absoluteExpiresAt: cap));
        var now = T0 + TimeSpan.FromMinutes(15);

        (await Store.TouchAsync(session.Id, now)).Should().BeTrue();

        var loaded = await Store.GetAsync(session.Id, cap - Ms(1));
        loaded.Should().NotBeNull();
        loaded!.LastAccessedAt.Should().Be(now);
        loaded.AbsoluteExpiresAt.Should().Be(cap);
        loaded.ExpiresAt.Should().Be(cap);
        (await Store.GetAsync(session.Id, cap)).Should().BeNull("use never extends the absolute expiry");
    }

    [Fact]
    public async Task TouchAsync_EarlierThanLastAccess_DoesNotMoveLastAccessedAtBackwards()
    {
        var session = await CreateLiveAsync(NewSession());
        var later = T0 + TimeSpan.FromMinutes(10);
        (await Store.TouchAsync(session.Id, later)).Should().BeTrue();

        var touched = await Store.TouchAsync(session.Id, T0 + TimeSpan.FromMinutes(5));

        touched.Should().BeTrue("the session is live");
        (await Store.GetAsync(session.Id, later)).ShouldEqualSnapshot(session with { LastAccessedAt = later });
    }

    [Fact]
    public async Task TouchAsync_MissingId_ReturnsFalseAndCreatesNothing()
    {
        var id = NewId();

        var touched = await Store.TouchAsync(id, T0);

        touched.Should().BeFalse();
        (await Store.GetAsync(id, T0)).Should().BeNull();
        (await Store.ExistsAsync(id, T0)).Should().BeFalse();
        (await QueryAllAsync(new SessionQuery(), T0)).Should().BeEmpty();
    }

    [Fact]
    public async Task TouchAsync_AfterDelete_ReturnsFalseAndSessionStaysAbsent()
    {
        var session = await CreateLiveAsync(NewSession(userId: "u"));
        (await Store.DeleteAsync(session.Id, T0 + Ms(1))).Should().NotBeNull();

        var touched = await Store.TouchAsync(session.Id, T0 + Ms(2));

        touched.Should().BeFalse();
        (await Store.GetAsync(session.Id, T0 + Ms(2))).Should().BeNull();
        (await Store.GetAsync(session.Id, T0)).Should().BeNull("nothing may be re-created, not even an old-looking record");
        (await QueryAllAsync(new SessionQuery { UserId = "u" }, T0 + Ms(2))).Should().BeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TouchAsync_Expired_ReturnsFalseAndSessionStaysInvisible(bool absoluteExpiry)
    {
        var (session, expiresAt) = ExpiringSession(absoluteExpiry);
        await CreateLiveAsync(session);

        var touched = await Store.TouchAsync(session.Id, expiresAt);

        touched.Should().BeFalse();
        (await Store.GetAsync(session.Id, expiresAt)).Should().BeNull("a touch must not revive an expired session");
        (await Store.ExistsAsync(session.Id, expiresAt + Ms(1))).Should().BeFalse();
    }
}
