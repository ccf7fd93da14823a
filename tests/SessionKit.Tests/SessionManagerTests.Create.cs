using SessionKit.Security;

namespace SessionKit.Tests;

public sealed partial class SessionManagerTests
{
    [Fact]
    public async Task Create_Default_IssuesWellFormedDistinctIds()
    {
        var manager = CreateManager();

        var ids = new HashSet<string>();
        for (var i = 0; i < 100; i++)
        {
            ids.Add((await manager.CreateAsync()).Id);
        }

        ids.Should().HaveCount(100);
        ids.Should().OnlyContain(id => id.Length == 43 && SessionIds.IsWellFormed(id));
    }

    [Fact]
    public async Task Create_Default_AppliesDefaultIdleAndAbsoluteTimeouts()
    {
        var manager = CreateManager();

        var session = await manager.CreateAsync();

        session.CreatedAt.Should().Be(Start);
        session.LastAccessedAt.Should().Be(Start);
        session.IdleTimeout.Should().Be(TimeSpan.FromMinutes(20));
        session.AbsoluteExpiresAt.Should().Be(Start + TimeSpan.FromHours(8));
        session.ExpiresAt.Should().Be(Start + TimeSpan.FromMinutes(20));
        session.Version.Should().Be(1);
    }

    [Fact]
    public async Task Create_PerSessionOverrides_ReplaceDefaults()
    {
        var manager = CreateManager();

        var shortLived = await manager.CreateAsync(new SessionCreateOptions { IdleTimeout = TimeSpan.FromMinutes(5), AbsoluteTimeout = TimeSpan.FromHours(1), UserId = "alice", Kind = "sse" });
        var uncapped = await manager.CreateAsync(new SessionCreateOptions { AbsoluteTimeout = Timeout.InfiniteTimeSpan });

        shortLived.IdleTimeout.Should().Be(TimeSpan.FromMinutes(5));
        shortLived.AbsoluteExpiresAt.Should().Be(Start + TimeSpan.FromHours(1));
        shortLived.UserId.Should().Be("alice");
        shortLived.Kind.Should().Be("sse");
        uncapped.AbsoluteExpiresAt.Should().BeNull();
    }

    [Fact]
    public async Task Create_SubMillisecondClock_TruncatesTimestampsToMilliseconds()
    {
        _time.Advance(TimeSpan.FromTicks(12_345));
        var manager = CreateManager();

        var session = await manager.CreateAsync();

        session.CreatedAt.Should().Be(Start + TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task Create_WithInitialData_StoresMetadataAndState()
    {
        var manager = CreateManager();

        var session = await manager.CreateAsync(new SessionCreateOptions().WithMetadata("client", "cli").WithState("cart", new[] { 1, 2 }));

        var stored = await _memory.GetAsync(session.Id, Start);
        stored!.Metadata.Should().Contain("client", "cli");
        stored.GetState<int[]>("cart").Should().Equal(1, 2);
    }

    [Fact]
    public async Task Create_StateOverLimit_ThrowsNamingSizeAndLimit_AndStoresNothing()
    {
        var manager = CreateManager(o => o.MaxStateBytes = 100);

        var act = async () => await manager.CreateAsync(new SessionCreateOptions().WithState("blob", new string('x', 200)));

        var thrown = await act.Should().ThrowAsync<SessionStateTooLargeException>();
        thrown.Which.Limit.Should().Be(100);
        thrown.Which.Size.Should().BeGreaterThan(200);
        thrown.Which.Message.Should().Contain("100").And.Contain("MaxStateBytes");
        _memory.Count.Should().Be(0);
    }

    [Fact]
    public async Task Create_InvalidPerSessionTimeouts_ThrowArgumentException()
    {
        var manager = CreateManager();

        var zeroIdle = async () => await manager.CreateAsync(new SessionCreateOptions { IdleTimeout = TimeSpan.Zero });
        var negativeCap = async () => await manager.CreateAsync(new SessionCreateOptions { AbsoluteTimeout = TimeSpan.FromSeconds(-5) });
        var blankUser = async () => await manager.CreateAsync(new SessionCreateOptions { UserId = " " });

        await zeroIdle.Should().ThrowAsync<ArgumentOutOfRangeException>();
        await negativeCap.Should().ThrowAsync<ArgumentOutOfRangeException>();
        await blankUser.Should().ThrowAsync<ArgumentException>();
        _memory.Count.Should().Be(0);
    }
}
