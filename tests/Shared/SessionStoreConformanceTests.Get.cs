using static SessionKit.Tests.SessionAssertions;

namespace SessionKit.Tests;

public abstract partial class SessionStoreConformanceTests
{
    [Fact]
    public async Task GetAsync_MissingId_ReturnsNull()
    {
        await CreateLiveAsync(NewSession());

        var loaded = await Store.GetAsync(NewId(), T0);

        loaded.Should().BeNull();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetAsync_JustBeforeExpiry_ReturnsSession(bool absoluteExpiry)
    {
        var (session, expiresAt) = ExpiringSession(absoluteExpiry);
        await CreateLiveAsync(session);

        var loaded = await Store.GetAsync(session.Id, expiresAt - Ms(1));

        loaded.ShouldEqualSnapshot(session);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetAsync_AtExpiry_ReturnsNull(bool absoluteExpiry)
    {
        var (session, expiresAt) = ExpiringSession(absoluteExpiry);
        await CreateLiveAsync(session);

        var loaded = await Store.GetAsync(session.Id, expiresAt);

        loaded.Should().BeNull("a session is live only while ExpiresAt > now");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetAsync_AfterExpiry_ReturnsNull(bool absoluteExpiry)
    {
        var (session, expiresAt) = ExpiringSession(absoluteExpiry);
        await CreateLiveAsync(session);

        var loaded = await Store.GetAsync(session.Id, expiresAt + TimeSpan.FromHours(1));

        loaded.Should().BeNull();
    }

    [Fact]
    public async Task GetAsync_Repeatedly_HasNoSideEffects()
    {
        var session = await CreateLiveAsync(NewSession());

        await Store.GetAsync(session.Id, T0 + TimeSpan.FromMinutes(10));
        await Store.GetAsync(session.Id, T0 + TimeSpan.FromMinutes(19));
        var afterGets = await Store.GetAsync(session.Id, T0 + Ms(1));

        afterGets.ShouldEqualSnapshot(session, "get never slides or bumps the version");
        (await Store.GetAsync(session.Id, session.ExpiresAt)).Should().BeNull("the session still expires at its original time");
    }

    [Fact]
    public async Task GetAsync_SnapshotReadBeforeUpdate_DoesNotChange()
    {
        var session = await CreateLiveAsync(NewRichSession());
        var before = await Store.GetAsync(session.Id, T0);

        await UpdateOrFailAsync(session.Id, new SessionChanges().SetMetadata("tenant", "changed").SetState("cart", Json(99)), T0 + Ms(5));

        before.ShouldEqualSnapshot(session, "a snapshot is immutable");
    }
}
