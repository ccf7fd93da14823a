namespace SessionKit.Tests;

public sealed partial class SessionManagerTests
{
    [Fact]
    public async Task MaxSessionsPerUser_EvictOldest_DeletesTheOldest()
    {
        var meters = new TestMeterFactory();
        var manager = CreateManager(o => o.MaxSessionsPerUser = 2, meters: meters);
        var first = await manager.CreateAsync(new SessionCreateOptions { UserId = "alice" });
        _time.Advance(TimeSpan.FromSeconds(1));
        var second = await manager.CreateAsync(new SessionCreateOptions { UserId = "alice" });
        _time.Advance(TimeSpan.FromSeconds(1));
        var third = await manager.CreateAsync(new SessionCreateOptions { UserId = "alice" });

        (await manager.GetAsync(first.Id)).IsFound.Should().BeFalse();
        (await manager.GetAsync(second.Id)).IsFound.Should().BeTrue();
        (await manager.GetAsync(third.Id)).IsFound.Should().BeTrue();
        meters.Total("sessionkit.sessions.evicted").Should().Be(1);
    }

    [Fact]
    public async Task MaxSessionsPerUser_RejectNew_RefusesAndKeepsExisting()
    {
        var manager = CreateManager(o =>
        {
            o.MaxSessionsPerUser = 2;
            o.MaxSessionsPolicy = MaxSessionsPolicy.RejectNew;
        });
        var first = await manager.CreateAsync(new SessionCreateOptions { UserId = "alice" });
        var second = await manager.CreateAsync(new SessionCreateOptions { UserId = "alice" });

        var refused = await manager.TryCreateAsync(new SessionCreateOptions { UserId = "alice" });
        var thrown = async () => await manager.CreateAsync(new SessionCreateOptions { UserId = "alice" });
        var otherUser = await manager.TryCreateAsync(new SessionCreateOptions { UserId = "bob" });

        refused.Status.Should().Be(SessionCreateStatus.LimitReached);
        refused.Session.Should().BeNull();
        await thrown.Should().ThrowAsync<SessionLimitExceededException>().WithMessage("*MaxSessionsPerUser*");
        otherUser.IsCreated.Should().BeTrue();
        (await manager.GetAsync(first.Id)).IsFound.Should().BeTrue();
        (await manager.GetAsync(second.Id)).IsFound.Should().BeTrue();
        (await manager.QueryAsync(new SessionQuery { UserId = "alice" })).Sessions.Should().HaveCount(2);
    }

    [Fact]
    public async Task MaxSessionsPerUser_RejectNew_ParallelCreatorsNeverExceedTheLimit()
    {
        var manager = CreateManager(o =>
        {
            o.MaxSessionsPerUser = 5;
            o.MaxSessionsPolicy = MaxSessionsPolicy.RejectNew;
        });

        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => Task.Run(async () => await manager.TryCreateAsync(new SessionCreateOptions { UserId = "alice" }))));

        var live = (await manager.QueryAsync(new SessionQuery { UserId = "alice" })).Sessions;
        live.Count.Should().BeInRange(1, 5);
        results.Count(r => r.IsCreated).Should().Be(live.Count);
    }

    [Fact]
    public async Task MaxSessionsPerUser_EvictOldest_ParallelCreatorsConvergeToTheLimit()
    {
        var manager = CreateManager(o => o.MaxSessionsPerUser = 3);

        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => Task.Run(async () => await manager.TryCreateAsync(new SessionCreateOptions { UserId = "alice" }))));

        var left = (await manager.QueryAsync(new SessionQuery { UserId = "alice" })).Sessions;
        left.Should().HaveCount(3, "concurrent creators agree on one order, their own sessions included");
        results.Where(r => r.IsCreated).Select(r => r.Session!.Id).Should().Contain(left.Select(s => s.Id));
    }
}
