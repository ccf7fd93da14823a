using static SessionKit.Tests.SessionAssertions;

namespace SessionKit.Tests;

public abstract partial class SessionStoreConformanceTests
{
    [Fact]
    public async Task ExistsAsync_Live_ReturnsTrue()
    {
        var session = await CreateLiveAsync(NewSession());

        var exists = await Store.ExistsAsync(session.Id, T0 + Ms(1));

        exists.Should().BeTrue();
    }

    [Fact]
    public async Task ExistsAsync_MissingId_ReturnsFalse()
    {
        await CreateLiveAsync(NewSession());

        var exists = await Store.ExistsAsync(NewId(), T0);

        exists.Should().BeFalse();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ExistsAsync_Expired_ReturnsFalse(bool absoluteExpiry)
    {
        var (session, expiresAt) = ExpiringSession(absoluteExpiry);
        await CreateLiveAsync(session);
        (await Store.ExistsAsync(session.Id, expiresAt - Ms(1))).Should().BeTrue();

        var exists = await Store.ExistsAsync(session.Id, expiresAt);

        exists.Should().BeFalse();
    }

    [Fact]
    public async Task ExistsAsync_Live_DoesNotSlide()
    {
        var session = await CreateLiveAsync(NewSession());

        (await Store.ExistsAsync(session.Id, T0 + TimeSpan.FromMinutes(19))).Should().BeTrue();

        (await Store.GetAsync(session.Id, T0 + Ms(1))).ShouldEqualSnapshot(session, "exists has no side effects");
        (await Store.ExistsAsync(session.Id, session.ExpiresAt)).Should().BeFalse("the expiry did not move");
    }
}
