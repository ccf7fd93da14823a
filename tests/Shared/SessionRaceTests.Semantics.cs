namespace SessionKit.Tests;

public abstract partial class SessionRaceTests
{
    [Fact]
    public async Task CompareAndSet_VersionReadBeforeRotation_MeansTheSameDataAfterIt()
    {
        var manager = Node();
        var session = await manager.CreateAsync(new SessionCreateOptions().WithState("counter", 3));
        var read = (await manager.GetAsync(session.Id)).Session!;
        var rotated = (await manager.RotateAsync(session.Id)).Session!;

        var write = await manager.UpdateAsync(rotated.Id, new SessionChanges { ExpectedVersion = read.Version }.SetState("counter", 4));

        write.Status.Should().Be(SessionUpdateStatus.Updated, "nothing changed the data since it was read");
        rotated.Version.Should().Be(read.Version);
    }

    [Fact]
    public async Task CompareAndSet_WriteBetweenReadAndRotation_IsAConflictAfterIt()
    {
        var manager = Node();
        var session = await manager.CreateAsync(new SessionCreateOptions().WithState("counter", 3));
        var read = (await manager.GetAsync(session.Id)).Session!;
        (await manager.UpdateAsync(session.Id, new SessionChanges().SetState("counter", 4))).IsUpdated.Should().BeTrue();
        var rotated = (await manager.RotateAsync(session.Id)).Session!;

        var stale = await manager.UpdateAsync(rotated.Id, new SessionChanges { ExpectedVersion = read.Version }.SetState("counter", 3));

        stale.Status.Should().Be(SessionUpdateStatus.Conflict, "the counter moved to 4 after version {0} was read", read.Version);
        (await manager.GetAsync(rotated.Id)).Session!.GetState<int>("counter").Should().Be(4);
    }

    [Fact]
    public async Task RotateWithChangeUserId_OldIdDiesAtOnceAndLeadsNowhere()
    {
        var manager = Node();
        var planted = await manager.CreateAsync();

        var login = await manager.RotateAsync(planted.Id, new SessionRotateOptions { ChangeUserId = true, UserId = "victim" });

        login.Status.Should().Be(SessionRotateStatus.Rotated);
        (await manager.GetAsync(planted.Id)).IsFound.Should().BeFalse("a planted pre-login id must never reach the logged-in session");
        (await manager.UpdateAsync(planted.Id, new SessionChanges().SetMetadata("x", "y"))).Status.Should().Be(SessionUpdateStatus.NotFound);
        (await manager.RotateAsync(planted.Id)).Status.Should().Be(SessionRotateStatus.NotFound);
        (await manager.DeleteAsync(planted.Id)).Should().BeFalse();
        (await manager.GetAsync(login.Session!.Id)).IsFound.Should().BeTrue("the old id can no longer touch the session it became");
    }

    [Theory]
    [InlineData(MaxSessionsPolicy.EvictOldest)]
    [InlineData(MaxSessionsPolicy.RejectNew)]
    public async Task RotateAtTheCap_IsOneSessionNotTwo(MaxSessionsPolicy policy)
    {
        var manager = Node(o => { o.MaxSessionsPerUser = 2; o.MaxSessionsPolicy = policy; });
        var first = await manager.CreateAsync(new SessionCreateOptions { UserId = "alice" });
        var second = await manager.CreateAsync(new SessionCreateOptions { UserId = "alice" });

        var rotated = await manager.RotateAsync(first.Id);

        rotated.Status.Should().Be(SessionRotateStatus.Rotated);
        (await manager.GetAsync(rotated.Session!.Id)).IsFound.Should().BeTrue();
        (await manager.GetAsync(second.Id)).IsFound.Should().BeTrue();
        (await manager.QueryAsync(new SessionQuery { UserId = "alice" })).Sessions.Should().HaveCount(2);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EvictOldest_ConcurrentLoginsOnTwoNodes_LeaveExactlyTheCap(bool cache)
    {
        if (cache && !SupportsCache)
        {
            cache = false;
        }

        void Configure(SessionKitOptions o)
        {
            o.MaxSessionsPerUser = 5;
            o.Cache.Enabled = cache;
        }

        var a = Node(Configure);
        var b = Node(Configure);
        for (var run = 0; run < 4; run++)
        {
            var user = $"user-{run}";
            var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
                await (i % 2 == 0 ? a : b).TryCreateAsync(new SessionCreateOptions { UserId = user }))));

            var left = (await a.QueryAsync(new SessionQuery { UserId = user })).Sessions;
            left.Should().HaveCount(5, $"run {run}: every creator applies one order, its own session included");
            results.Where(r => r.IsCreated).Select(r => r.Session!.Id).Should().Contain(left.Select(s => s.Id));
        }
    }

    [Fact]
    public async Task RejectNew_ConcurrentLoginsOnTwoNodes_AdmitAtLeastOneAndAtMostTheCap()
    {
        var a = Node(o => { o.MaxSessionsPerUser = 5; o.MaxSessionsPolicy = MaxSessionsPolicy.RejectNew; });
        var b = Node(o => { o.MaxSessionsPerUser = 5; o.MaxSessionsPolicy = MaxSessionsPolicy.RejectNew; });
        for (var run = 0; run < 4; run++)
        {
            var user = $"user-{run}";
            var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
                await (i % 2 == 0 ? a : b).TryCreateAsync(new SessionCreateOptions { UserId = user }))));

            var left = (await a.QueryAsync(new SessionQuery { UserId = user })).Sessions;
            left.Count.Should().BeInRange(1, 5, $"run {run}: RejectNew never exceeds the cap, and creators that all backed out retry");
            left.Select(s => s.Id).Should().BeEquivalentTo(results.Where(r => r.IsCreated).Select(r => r.Session!.Id), "exactly the creations answered Created survive");
        }
    }
}
