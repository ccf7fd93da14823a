using System.Text.Json;
using Microsoft.Extensions.Options;
using SessionKit.Security;
using SessionKit.Stores;

namespace SessionKit.Tests;

public sealed class SessionManagerTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly ManualTimeProvider _time = new(Start);
    private readonly InMemorySessionStore _memory = new();
    private readonly CountingSessionStore _store;
    private readonly List<SessionManager> _managers = [];

    public SessionManagerTests()
    {
        _store = new CountingSessionStore(_memory);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var manager in _managers)
        {
            await manager.DisposeAsync();
        }
    }

    private SessionManager CreateManager(Action<SessionKitOptions>? configure = null, ISessionStore? store = null, TestMeterFactory? meters = null, CapturingLoggerProvider? logs = null)
    {
        var options = new SessionKitOptions();
        configure?.Invoke(options);
        var manager = new SessionManager(store ?? _store, Options.Create(options), _time, logs, meters);
        _managers.Add(manager);
        return manager;
    }

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

    [Fact]
    public async Task Query_StripsBindingData()
    {
        var manager = CreateManager();
        var options = new SessionCreateOptions { UserId = "alice" };
        options.Data.SetBinding("credential", "hash");
        var session = await manager.CreateAsync(options);

        var page = await manager.QueryAsync(new SessionQuery { UserId = "alice" });

        page.Sessions.Should().ContainSingle().Which.Binding.Should().BeEmpty();
        (await _memory.GetAsync(session.Id, Start))!.Binding.Should().ContainKey("credential");
    }

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

        await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => Task.Run(async () => await manager.CreateAsync(new SessionCreateOptions { UserId = "alice" }))));

        (await manager.QueryAsync(new SessionQuery { UserId = "alice" })).Sessions.Count.Should().BeInRange(1, 3);
    }

    [Fact]
    public async Task CleanupExpired_RemovesOnlyExpiredAndCounts()
    {
        var meters = new TestMeterFactory();
        var manager = CreateManager(o => o.EnableBackgroundCleanup = false, meters: meters);
        for (var i = 0; i < 10; i++)
        {
            await manager.CreateAsync(new SessionCreateOptions { IdleTimeout = TimeSpan.FromMinutes(5) });
        }

        var survivor = await manager.CreateAsync(new SessionCreateOptions { IdleTimeout = TimeSpan.FromMinutes(30) });
        _time.Advance(TimeSpan.FromMinutes(6));

        var removed = await manager.CleanupExpiredAsync();

        removed.Should().Be(10);
        _memory.Count.Should().Be(1);
        (await manager.GetAsync(survivor.Id)).IsFound.Should().BeTrue();
        meters.Total("sessionkit.sessions.expired").Should().Be(10);
    }

    [Fact]
    public async Task CleanupExpired_MoreThanOneBatch_DrainsEverythingDue()
    {
        var manager = CreateManager(o =>
        {
            o.EnableBackgroundCleanup = false;
            o.CleanupBatchSize = 7;
        });
        for (var i = 0; i < 50; i++)
        {
            await manager.CreateAsync();
        }

        _time.Advance(TimeSpan.FromMinutes(21));

        (await manager.CleanupExpiredAsync()).Should().Be(50);
        _memory.Count.Should().Be(0);
    }

    [Fact]
    public async Task BackgroundCleanup_TimerDrivenByTimeProvider_SweepsExpiredSessions()
    {
        var manager = CreateManager(o => o.CleanupInterval = TimeSpan.FromMinutes(1));
        for (var i = 0; i < 5; i++)
        {
            await manager.CreateAsync(new SessionCreateOptions { IdleTimeout = TimeSpan.FromSeconds(150) });
        }

        _time.Advance(TimeSpan.FromMinutes(2));
        _memory.Count.Should().Be(5, "the sweeps at 1 and 2 minutes ran before the sessions were due at 2.5 minutes");

        _time.Advance(TimeSpan.FromMinutes(1));
        await WaitUntilAsync(() => _memory.Count == 0);

        _memory.Count.Should().Be(0);
        _store.Calls("remove_expired").Should().BeGreaterThanOrEqualTo(3);
    }

    [Fact]
    public async Task BackgroundCleanup_Disabled_CreatesNoTimer()
    {
        CreateManager(o => o.EnableBackgroundCleanup = false);

        _time.TimerCount.Should().Be(0);
        _time.Advance(TimeSpan.FromHours(1));
        _store.Calls("remove_expired").Should().Be(0);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Dispose_StopsBackgroundCleanup()
    {
        var manager = CreateManager();
        await manager.CreateAsync(new SessionCreateOptions { IdleTimeout = TimeSpan.FromMinutes(1) });
        _time.ArmedTimerCount.Should().Be(1);

        await manager.DisposeAsync();
        _time.Advance(TimeSpan.FromHours(1));

        _time.ArmedTimerCount.Should().Be(0);
        _store.Calls("remove_expired").Should().Be(0);
        _memory.Count.Should().Be(1);
    }

    [Fact]
    public async Task BackgroundCleanup_StoreFailure_IsLoggedAndRetriedNextInterval()
    {
        var logs = new CapturingLoggerProvider();
        var failing = new FailingSweepStore(_memory) { FailuresLeft = 1 };
        var manager = CreateManager(store: failing, logs: logs);
        await manager.CreateAsync(new SessionCreateOptions { IdleTimeout = TimeSpan.FromMinutes(1) });

        _time.Advance(TimeSpan.FromMinutes(1));
        await WaitUntilAsync(() => logs.Entries.Any(e => e.EventId.Id == 9));
        _memory.Count.Should().Be(1);

        _time.Advance(TimeSpan.FromMinutes(1));
        await WaitUntilAsync(() => _memory.Count == 0);

        logs.Entries.Should().Contain(e => e.EventId.Id == 9 && e.Exception is SessionStoreException);
        _memory.Count.Should().Be(0);
    }

    [Fact]
    public async Task Logs_NeverContainSessionIds()
    {
        var logs = new CapturingLoggerProvider();
        var manager = CreateManager(o => o.EnableBackgroundCleanup = false, logs: logs);
        var session = await manager.CreateAsync();
        await manager.UpdateAsync(session.Id, new SessionChanges { ExpectedVersion = 42 }.SetMetadata("k", "v"));
        await manager.DeleteAsync(session.Id);
        var expiring = await manager.CreateAsync();
        _time.Advance(TimeSpan.FromHours(1));
        await manager.CleanupExpiredAsync();

        logs.Entries.Should().Contain(e => e.EventId.Id == 1).And.Contain(e => e.EventId.Id == 3).And.Contain(e => e.EventId.Id == 7);
        logs.Entries.Should().NotContain(e => e.AllText.Contains(session.Id, StringComparison.Ordinal) || e.AllText.Contains(expiring.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Logs_SameSessionGetsTheSameTag()
    {
        var logs = new CapturingLoggerProvider();
        var manager = CreateManager(logs: logs);
        var session = await manager.CreateAsync();
        await manager.DeleteAsync(session.Id);

        var tags = logs.Entries.Where(e => e.EventId.Id is 1 or 3).Select(e => e.Properties.Single(p => p.StartsWith("SessionTag=", StringComparison.Ordinal))).ToList();

        tags.Should().HaveCount(2);
        tags.Distinct().Should().ContainSingle();
    }

    [Fact]
    public async Task Metrics_StoreDuration_TaggedByStoreAndOperation()
    {
        var meters = new TestMeterFactory();
        var manager = CreateManager(meters: meters);
        var session = await manager.CreateAsync();
        await manager.GetAsync(session.Id);

        var histograms = meters.Histograms().Where(h => h.Name == "sessionkit.store.duration").ToList();

        histograms.Should().Contain(h => h.Tags.Contains(new KeyValuePair<string, object?>("sessionkit.operation", "create")));
        histograms.Should().Contain(h => h.Tags.Contains(new KeyValuePair<string, object?>("sessionkit.operation", "get")));
        histograms.Should().OnlyContain(h => h.Tags.Contains(new KeyValuePair<string, object?>("sessionkit.store", "memory")));
        meters.Total("sessionkit.sessions.created").Should().Be(1);
    }

    [Theory]
    [InlineData("IdleTimeout")]
    [InlineData("AbsoluteTimeout")]
    [InlineData("TouchThreshold")]
    [InlineData("CleanupInterval")]
    [InlineData("CleanupBatchSize")]
    [InlineData("MaxStateBytes")]
    [InlineData("MaxSessionsPerUser")]
    [InlineData("RotationGracePeriod")]
    public void Constructor_InvalidOptions_ThrowsNamingTheOption(string option)
    {
        var options = new SessionKitOptions();
        switch (option)
        {
            case "IdleTimeout": options.IdleTimeout = TimeSpan.Zero; break;
            case "AbsoluteTimeout": options.AbsoluteTimeout = TimeSpan.FromMinutes(5); break;
            case "TouchThreshold": options.TouchThreshold = TimeSpan.FromMinutes(20); break;
            case "CleanupInterval": options.CleanupInterval = TimeSpan.FromSeconds(-1); break;
            case "CleanupBatchSize": options.CleanupBatchSize = 0; break;
            case "MaxStateBytes": options.MaxStateBytes = 0; break;
            case "MaxSessionsPerUser": options.MaxSessionsPerUser = 0; break;
            case "RotationGracePeriod": options.RotationGracePeriod = TimeSpan.FromSeconds(-1); break;
        }

        var act = () => new SessionManager(_store, Options.Create(options), _time);

        act.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain(option);
    }

    [Fact]
    public void Constructor_AbsoluteShorterThanIdle_MessageSaysSo()
    {
        var options = new SessionKitOptions { IdleTimeout = TimeSpan.FromHours(1), AbsoluteTimeout = TimeSpan.FromMinutes(30) };

        var act = () => new SessionManager(_store, Options.Create(options), _time);

        act.Should().Throw<OptionsValidationException>().WithMessage("*AbsoluteTimeout*must not be shorter than IdleTimeout*");
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

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(10);
        }
    }

    private sealed class SelfReferencing
    {
        public SelfReferencing Self => this;
    }

    private sealed class DeletingBeforeTouchStore(ISessionStore inner) : DelegatingStore(inner)
    {
        public override async ValueTask<bool> TouchAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
        {
            await Inner.DeleteAsync(id, now, cancellationToken);
            return await Inner.TouchAsync(id, now, cancellationToken);
        }
    }

    private sealed class FailingSweepStore(ISessionStore inner) : DelegatingStore(inner)
    {
        public int FailuresLeft { get; set; }

        public override ValueTask<IReadOnlyList<Session>> RemoveExpiredAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken = default)
        {
            if (FailuresLeft-- > 0)
            {
                throw new SessionStoreException(Name, "remove_expired", "simulated outage");
            }

            return Inner.RemoveExpiredAsync(now, maxCount, cancellationToken);
        }
    }
}
