using SessionKit.Security;

namespace SessionKit.Tests;

public abstract partial class SessionSecurityConformanceTests
{
    // ---- rotation -----------------------------------------------------------------------------------------------

    [Fact]
    public async Task Rotate_NewIdSameData_OldIdForwardsDuringGraceThenIsGone()
    {
        var manager = Manager();
        var session = await manager.CreateAsync(new SessionCreateOptions { UserId = "alice" }.WithState("cart", 3));

        var rotated = await manager.RotateAsync(session.Id);

        rotated.IsRotated.Should().BeTrue();
        rotated.Session!.Id.Should().NotBe(session.Id);
        rotated.Session.GetState<int>("cart").Should().Be(3);
        rotated.Session.UserId.Should().Be("alice");
        (await manager.GetAsync(session.Id)).Session!.Id.Should().Be(rotated.Session.Id);
        (await manager.QueryAsync(new SessionQuery { UserId = "alice" })).Sessions.Should().ContainSingle().Which.Id.Should().Be(rotated.Session.Id);

        Time.Advance(TimeSpan.FromSeconds(30));

        (await manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
        (await manager.GetAsync(rotated.Session.Id)).IsFound.Should().BeTrue();
        Events.Of(SessionEventKind.Rotated).Should().ContainSingle().Which.PreviousSessionId.Should().Be(session.Id);
    }

    [Fact]
    public async Task Rotate_ParallelInFlightRequestsOnTheOldId_AllLandOnTheNewSession()
    {
        var manager = Manager();
        var session = await manager.CreateAsync();
        var rotated = (await manager.RotateAsync(session.Id)).Session!;

        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(async () =>
        {
            var get = await manager.GetAsync(session.Id);
            var update = await manager.UpdateAsync(session.Id, new SessionChanges().SetState($"k{i}", i));
            return (get.IsFound, update.IsUpdated);
        })));

        results.Should().OnlyContain(r => r.IsFound && r.IsUpdated);
        var current = (await manager.GetAsync(rotated.Id)).Session!;
        current.State.Keys.Should().HaveCount(32);
    }

    [Fact]
    public async Task Rotate_GraceZero_OldIdGoneAtOnce()
    {
        var manager = Manager(o => o.RotationGracePeriod = TimeSpan.Zero);
        var session = await manager.CreateAsync();

        var rotated = await manager.RotateAsync(session.Id);

        (await manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
        (await manager.GetAsync(rotated.Session!.Id)).IsFound.Should().BeTrue();
    }

    [Fact]
    public async Task Rotate_AfterGrace_LateUpdateOnOldIdIsNotFoundAndNotLost()
    {
        var manager = Manager();
        var session = await manager.CreateAsync();
        var rotated = (await manager.RotateAsync(session.Id)).Session!;
        Time.Advance(TimeSpan.FromSeconds(31));

        var late = await manager.UpdateAsync(session.Id, new SessionChanges().SetMetadata("late", "1"));

        late.Status.Should().Be(SessionUpdateStatus.NotFound);
        (await manager.GetAsync(rotated.Id)).Session!.Metadata.Should().NotContainKey("late");
    }

    [Fact]
    public async Task Rotate_AnonymousUpgradedByRebind_NewSessionRequiresTheCredential()
    {
        var manager = Manager(guards: Credential());
        var anonymous = await manager.CreateAsync();

        var upgraded = await manager.RotateAsync(anonymous.Id, new SessionRotateOptions { Rebind = Alice, ChangeUserId = true, UserId = "alice" });

        upgraded.IsRotated.Should().BeTrue();
        upgraded.Session!.UserId.Should().Be("alice");
        (await manager.GetAsync(upgraded.Session.Id, Alice)).IsFound.Should().BeTrue();
        (await manager.GetAsync(upgraded.Session.Id)).Status.Should().Be(SessionLookupStatus.Rejected);
        (await manager.GetAsync(upgraded.Session.Id, Mallory)).Status.Should().Be(SessionLookupStatus.Rejected);
    }

    [Fact]
    public async Task Rotate_KeepsBindingWithoutRebind()
    {
        var manager = Manager(guards: Credential());
        var session = await manager.CreateAsync(new SessionCreateOptions { Access = Alice });

        var rotated = await manager.RotateAsync(session.Id, context: Alice);

        (await manager.GetAsync(rotated.Session!.Id, Alice)).IsFound.Should().BeTrue();
        (await manager.GetAsync(rotated.Session.Id, Mallory)).Status.Should().Be(SessionLookupStatus.Rejected);
    }

    [Fact]
    public async Task Rotate_DeleteThroughOldIdDuringGrace_LogsOutTheNewSession()
    {
        var manager = Manager();
        var session = await manager.CreateAsync();
        var rotated = (await manager.RotateAsync(session.Id)).Session!;

        (await manager.DeleteAsync(session.Id)).Should().BeTrue();

        (await manager.GetAsync(rotated.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
        (await manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
    }

    [Fact]
    public async Task Rotate_UnknownId_NotFound()
    {
        var manager = Manager();

        (await manager.RotateAsync(SessionIds.Generate())).Status.Should().Be(SessionRotateStatus.NotFound);
    }

    [Fact]
    public async Task Rotate_AlreadyRotatedIdWithinGrace_RotatesTheLiveEndOfTheChain()
    {
        var manager = Manager();
        var session = await manager.CreateAsync();
        var first = (await manager.RotateAsync(session.Id)).Session!;

        var second = await manager.RotateAsync(session.Id);

        second.Status.Should().Be(SessionRotateStatus.Rotated);
        second.Session!.Id.Should().NotBe(first.Id).And.NotBe(session.Id);
        (await manager.GetAsync(first.Id)).Session!.Id.Should().Be(second.Session.Id, "every id of the chain leads to its live end");
        (await manager.GetAsync(session.Id)).Session!.Id.Should().Be(second.Session.Id);
    }

    [Fact]
    public async Task Rotate_AlreadyRotatedIdAfterGrace_NotFound()
    {
        var manager = Manager();
        var session = await manager.CreateAsync();
        await manager.RotateAsync(session.Id);
        Time.Advance(TimeSpan.FromSeconds(31));

        (await manager.RotateAsync(session.Id)).Status.Should().Be(SessionRotateStatus.NotFound);
    }
}
