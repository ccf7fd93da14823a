namespace SessionKit.Tests;

public sealed partial class SessionManagerTests
{
    [Fact]
    public async Task Delete_LiveSession_TrueThenFalse_AndGone()
    {
        var meters = new TestMeterFactory();
        var manager = CreateManager(meters: meters);
        var session = await manager.CreateAsync();

        (await manager.DeleteAsync(session.Id)).Should().BeTrue();
        (await manager.DeleteAsync(session.Id)).Should().BeFalse();
        (await manager.GetAsync(session.Id)).IsFound.Should().BeFalse();
        (await manager.UpdateAsync(session.Id, new SessionChanges().SetMetadata("k", "v"))).Status.Should().Be(SessionUpdateStatus.NotFound);
        meters.Total("sessionkit.sessions.deleted").Should().Be(1);
    }

    [Fact]
    public async Task DeleteUserSessions_RemovesAllOfThatUserOnly()
    {
        var manager = CreateManager();
        for (var i = 0; i < 5; i++)
        {
            await manager.CreateAsync(new SessionCreateOptions { UserId = "alice" });
        }

        var bob = await manager.CreateAsync(new SessionCreateOptions { UserId = "bob" });

        var deleted = await manager.DeleteUserSessionsAsync("alice");

        deleted.Should().Be(5);
        (await manager.QueryAsync(new SessionQuery { UserId = "alice" })).Sessions.Should().BeEmpty();
        (await manager.GetAsync(bob.Id)).IsFound.Should().BeTrue();
    }

    [Fact]
    public async Task DeleteUserSessions_ExceptOne_KeepsThatSession()
    {
        var manager = CreateManager();
        var keep = await manager.CreateAsync(new SessionCreateOptions { UserId = "alice" });
        await manager.CreateAsync(new SessionCreateOptions { UserId = "alice" });
        await manager.CreateAsync(new SessionCreateOptions { UserId = "alice" });

        var deleted = await manager.DeleteUserSessionsAsync("alice", keep.Id);

        deleted.Should().Be(2);
        var left = (await manager.QueryAsync(new SessionQuery { UserId = "alice" })).Sessions;
        left.Should().ContainSingle().Which.Id.Should().Be(keep.Id);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public async Task DeleteUserSessions_BlankUser_ThrowsArgumentException(string? userId)
    {
        var manager = CreateManager();

        var act = async () => await manager.DeleteUserSessionsAsync(userId!);

        await act.Should().ThrowAsync<ArgumentException>();
    }
}
