using SessionKit.Security;

namespace SessionKit.Tests;

public sealed partial class SessionManagerTests
{
    [Fact]
    public async Task Update_MergesKeysAndBumpsVersion()
    {
        var manager = CreateManager();
        var session = await manager.CreateAsync(new SessionCreateOptions().WithMetadata("a", "1").WithState("keep", 1));

        var result = await manager.UpdateAsync(session.Id, new SessionChanges().SetMetadata("b", "2").SetState("count", 5));

        result.Status.Should().Be(SessionUpdateStatus.Updated);
        result.Session!.Version.Should().Be(2);
        result.Session.Metadata.Should().Contain("a", "1").And.Contain("b", "2");
        result.Session.GetState<int>("keep").Should().Be(1);
        result.Session.GetState<int>("count").Should().Be(5);
    }

    [Fact]
    public async Task Update_ExpectedVersionMismatch_ConflictAndNothingWritten()
    {
        var meters = new TestMeterFactory();
        var manager = CreateManager(meters: meters);
        var session = await manager.CreateAsync();
        await manager.UpdateAsync(session.Id, new SessionChanges().SetMetadata("k", "1"));

        var result = await manager.UpdateAsync(session.Id, new SessionChanges { ExpectedVersion = 1 }.SetMetadata("k", "2"));

        result.Status.Should().Be(SessionUpdateStatus.Conflict);
        result.CurrentVersion.Should().Be(2);
        (await manager.GetAsync(session.Id)).Session!.Metadata["k"].Should().Be("1");
        meters.Total("sessionkit.updates.conflicts").Should().Be(1);
    }

    [Fact]
    public async Task Update_UnknownSession_NotFoundAndNothingCreated()
    {
        var manager = CreateManager();
        var id = SessionIds.Generate();

        var result = await manager.UpdateAsync(id, new SessionChanges().SetMetadata("k", "v"));

        result.Status.Should().Be(SessionUpdateStatus.NotFound);
        _memory.Count.Should().Be(0);
    }

    [Fact]
    public async Task Update_StateOverLimit_ThrowsAndLeavesSessionUnchanged()
    {
        var manager = CreateManager(o => o.MaxStateBytes = 256);
        var session = await manager.CreateAsync(new SessionCreateOptions().WithState("small", "ok"));

        var act = async () => await manager.UpdateAsync(session.Id, new SessionChanges().SetState("big", new string('x', 300)));

        await act.Should().ThrowAsync<SessionStateTooLargeException>();
        var stored = (await manager.GetAsync(session.Id)).Session!;
        stored.Version.Should().Be(1);
        stored.State.Keys.Should().BeEquivalentTo("small");
    }

    [Fact]
    public async Task Update_UnserializableValue_ThrowsBeforeReachingTheStore()
    {
        var manager = CreateManager();
        var session = await manager.CreateAsync();
        _store.Reset();

        var act = () => new SessionChanges().SetState("bad", new SelfReferencing());

        act.Should().Throw<ArgumentException>().WithMessage("*bad*cannot be serialized*");
        _store.Calls("update").Should().Be(0);
        (await manager.GetAsync(session.Id)).Session!.Version.Should().Be(1);
    }

    [Fact]
    public async Task Update_AfterExpiry_NotFound()
    {
        var manager = CreateManager();
        var session = await manager.CreateAsync();
        _time.Advance(TimeSpan.FromMinutes(21));

        var result = await manager.UpdateAsync(session.Id, new SessionChanges().SetMetadata("k", "v"));

        result.Status.Should().Be(SessionUpdateStatus.NotFound);
    }

    private sealed class SelfReferencing
    {
        public SelfReferencing Self => this;
    }
}
