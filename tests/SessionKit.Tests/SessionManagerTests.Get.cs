using SessionKit.Security;

namespace SessionKit.Tests;

public sealed partial class SessionManagerTests
{
    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("short")]
    [InlineData("../../etc/passwd")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa+")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaB")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaA")]
    public async Task Get_MalformedId_NotFoundWithoutStoreAccess(string id)
    {
        var manager = CreateManager();

        var result = await manager.GetAsync(id);
        var update = await manager.UpdateAsync(id, new SessionChanges().SetMetadata("k", "v"));
        var deleted = await manager.DeleteAsync(id);

        result.Status.Should().Be(SessionLookupStatus.NotFound);
        update.Status.Should().Be(SessionUpdateStatus.NotFound);
        deleted.Should().BeFalse();
        _store.TotalCalls.Should().Be(0);
    }

    [Fact]
    public async Task Get_HugeId_NotFoundWithoutStoreAccess()
    {
        var manager = CreateManager();

        var result = await manager.GetAsync(new string('a', 10_000));

        result.IsFound.Should().BeFalse();
        _store.TotalCalls.Should().Be(0);
    }

    [Fact]
    public async Task Get_NullId_ThrowsArgumentNullException()
    {
        var manager = CreateManager();

        var act = async () => await manager.GetAsync(null!);

        await act.Should().ThrowAsync<ArgumentNullException>();
    }

    [Fact]
    public async Task Get_WellFormedUnknownId_NotFound()
    {
        var manager = CreateManager();

        var result = await manager.GetAsync(SessionIds.Generate());

        result.Status.Should().Be(SessionLookupStatus.NotFound);
        result.Session.Should().BeNull();
    }

    [Fact]
    public async Task Get_WithinIdleTimeout_Found()
    {
        var manager = CreateManager();
        var session = await manager.CreateAsync();

        _time.Advance(TimeSpan.FromMinutes(19));
        var result = await manager.GetAsync(session.Id);

        result.Status.Should().Be(SessionLookupStatus.Found);
        result.Session!.Id.Should().Be(session.Id);
    }

    [Fact]
    public async Task Get_AfterIdleTimeout_NotFound()
    {
        var manager = CreateManager();
        var session = await manager.CreateAsync();

        _time.Advance(TimeSpan.FromMinutes(20));

        (await manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
    }

    [Fact]
    public async Task Get_Sliding_KeepsSessionAliveAcrossIdleWindows()
    {
        var manager = CreateManager();
        var session = await manager.CreateAsync();

        for (var i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(15));
            var result = await manager.GetAsync(session.Id);
            result.IsFound.Should().BeTrue($"access {i} came 15 minutes after the previous one");
            result.Session!.ExpiresAt.Should().Be(_time.GetUtcNow() + TimeSpan.FromMinutes(20));
        }

        _time.Advance(TimeSpan.FromMinutes(20));
        (await manager.GetAsync(session.Id)).IsFound.Should().BeFalse();
    }

    [Fact]
    public async Task Get_NoSlide_DoesNotExtendTheSession()
    {
        var manager = CreateManager();
        var session = await manager.CreateAsync();

        _time.Advance(TimeSpan.FromMinutes(15));
        var polled = await manager.GetAsync(session.Id, SessionAccessContext.NoSlide);
        _time.Advance(TimeSpan.FromMinutes(6));

        polled.IsFound.Should().BeTrue();
        _store.Calls("touch").Should().Be(0);
        (await manager.GetAsync(session.Id)).IsFound.Should().BeFalse();
    }

    [Fact]
    public async Task Get_AbsoluteCap_EndsAnActiveSession()
    {
        var manager = CreateManager(o => o.AbsoluteTimeout = TimeSpan.FromHours(1));
        var session = await manager.CreateAsync();

        for (var i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(10));
            (await manager.GetAsync(session.Id)).IsFound.Should().BeTrue();
        }

        _time.Advance(TimeSpan.FromMinutes(9));
        var nearCap = await manager.GetAsync(session.Id);
        _time.Advance(TimeSpan.FromMinutes(1));
        var atCap = await manager.GetAsync(session.Id);

        nearCap.Session!.ExpiresAt.Should().Be(Start + TimeSpan.FromHours(1));
        atCap.IsFound.Should().BeFalse();
    }

    [Fact]
    public async Task Get_WithinTouchThreshold_DoesNotWriteToStore()
    {
        var manager = CreateManager();
        var session = await manager.CreateAsync();

        for (var i = 0; i < 1000; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            (await manager.GetAsync(session.Id)).IsFound.Should().BeTrue();
        }

        // 100 s of reads, inside the default 2-minute threshold (10% of 20 minutes).
        _store.Calls("touch").Should().Be(0);
        _store.Calls("get").Should().Be(1000);
    }

    [Fact]
    public async Task Get_HotSession_WritesOncePerThresholdWindow()
    {
        var manager = CreateManager(o => o.TouchThreshold = TimeSpan.FromMinutes(1));
        var session = await manager.CreateAsync();

        for (var i = 0; i < 600; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            (await manager.GetAsync(session.Id)).IsFound.Should().BeTrue();
        }

        // 10 minutes of reads every second with a 1-minute threshold: one touch per minute.
        _store.Calls("touch").Should().Be(10);
        (await _memory.GetAsync(session.Id, _time.GetUtcNow()))!.LastAccessedAt.Should().Be(_time.GetUtcNow());
    }

    [Fact]
    public async Task Get_SlideCappedByAbsoluteExpiry_SkipsTheTouch()
    {
        var manager = CreateManager(o => o.AbsoluteTimeout = TimeSpan.FromMinutes(30));
        var session = await manager.CreateAsync();
        _time.Advance(TimeSpan.FromMinutes(12));
        (await manager.GetAsync(session.Id)).IsFound.Should().BeTrue();
        _store.Reset();

        _time.Advance(TimeSpan.FromMinutes(12));
        var result = await manager.GetAsync(session.Id);

        result.IsFound.Should().BeTrue();
        _store.Calls("touch").Should().Be(0, "the sliding expiry already reaches the absolute cap");
    }

    [Fact]
    public async Task Get_SessionDeletedBetweenReadAndTouch_NotFound()
    {
        var racing = new DeletingBeforeTouchStore(_memory);
        var manager = CreateManager(store: racing);
        var session = await manager.CreateAsync();
        _time.Advance(TimeSpan.FromMinutes(5));

        var result = await manager.GetAsync(session.Id);

        result.IsFound.Should().BeFalse();
        (await _memory.GetAsync(session.Id, _time.GetUtcNow())).Should().BeNull();
    }

    private sealed class DeletingBeforeTouchStore(ISessionStore inner) : DelegatingStore(inner)
    {
        public override async ValueTask<bool> TouchAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
        {
            await Inner.DeleteAsync(id, now, cancellationToken);
            return await Inner.TouchAsync(id, now, cancellationToken);
        }
    }
}
