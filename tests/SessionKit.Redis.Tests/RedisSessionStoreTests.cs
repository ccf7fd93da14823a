using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SessionKit.Redis;
using StackExchange.Redis;

namespace SessionKit.Tests;

/// <summary>Behaviour specific to the Redis store: the key and hash layout, TTLs, index self-healing, the sweep, hostile input and unreadable data.</summary>
public sealed class RedisSessionStoreTests(RedisTestServer redis) : IClassFixture<RedisTestServer>, IAsyncLifetime
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(20);
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(5);
    private readonly string _prefix = RedisTestServer.NewPrefix();
    private readonly CapturingLoggerProvider _logs = new();
    private readonly DateTimeOffset _t0 = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    private RedisSessionStore _store = null!;

    private IDatabase Db => redis.Multiplexer.GetDatabase();

    public Task InitializeAsync()
    {
        _store = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { ConnectionMultiplexer = redis.Multiplexer, KeyPrefix = _prefix, ExpiryGracePeriod = Grace }), _logs);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        redis.Multiplexer.IsConnected.Should().BeTrue("the store never disposes a multiplexer it was given");
        await redis.DeletePrefixAsync(_prefix);
        _logs.Dispose();
    }

    [Fact]
    public async Task CreateAsync_WritesOneHashWithTheDocumentedFields()
    {
        var session = NewSession(userId: "u1", kind: "chat") with
        {
            AbsoluteExpiresAt = _t0 + TimeSpan.FromHours(8),
            Metadata = new Dictionary<string, string> { ["tenant"] = "t" },
            State = new Dictionary<string, JsonElement> { ["cart"] = JsonSerializer.SerializeToElement(new { n = 1 }) },
            Binding = new Dictionary<string, string> { ["salt"] = "s" },
        };

        await _store.CreateAsync(session, _t0);

        var hash = (await Db.HashGetAllAsync(SessionKey(session.Id))).ToDictionary(static e => (string)e.Name!, static e => (string)e.Value!);
        hash.Should().ContainKey("n").WhoseValue.Should().MatchRegex("^[0-9a-f]{16}$", "a random nonce names this incarnation of the id");
        hash.Remove("n");
        hash.Should().BeEquivalentTo(new Dictionary<string, string>
        {
            ["v"] = "1",
            ["uid"] = "u1",
            ["kind"] = "chat",
            ["ca"] = Ms(_t0),
            ["la"] = Ms(_t0),
            ["idle"] = "1200000",
            ["abs"] = Ms(_t0 + TimeSpan.FromHours(8)),
            ["ver"] = "1",
            ["sz"] = "11",
            ["m:tenant"] = "t",
            ["s:cart"] = "{\"n\":1}",
            ["b:salt"] = "s",
        });
        (await Db.SortedSetScoreAsync(_prefix + "u:u1", session.Id)).Should().Be((_t0 + Idle).ToUnixTimeMilliseconds());
        (await Db.SortedSetScoreAsync(RedisLayout.ExpiryKey(_prefix, session.Id), session.Id)).Should().Be((_t0 + Idle).ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task CreateAndTouch_SetRelativeTtlFromCallersNow_SoAClockFarFromRedisCannotReapEarly()
    {
        // The caller's clock is a year ahead of Redis: a PEXPIREAT from it would be wrong by a year; the relative TTL is not.
        var skewed = _t0 + TimeSpan.FromDays(365);
        var session = NewSession(at: skewed);

        await _store.CreateAsync(session, skewed);
        var afterCreate = await Db.KeyTimeToLiveAsync(SessionKey(session.Id));
        await _store.TouchAsync(session.Id, skewed + TimeSpan.FromMinutes(10));
        var afterTouch = await Db.KeyTimeToLiveAsync(SessionKey(session.Id));

        afterCreate.Should().BeCloseTo(Idle + Grace, TimeSpan.FromSeconds(5));
        afterTouch.Should().BeCloseTo(Idle + Grace, TimeSpan.FromSeconds(5), "the touch re-arms (expiry - now) + grace");
    }

    [Fact]
    public async Task CreateAsync_AlreadyExpiredSession_KeepsItForTheGraceMarginSoTheSweepCanReportIt()
    {
        var session = NewSession(at: _t0 - TimeSpan.FromHours(1));

        await _store.CreateAsync(session, _t0);

        (await Db.KeyTimeToLiveAsync(SessionKey(session.Id))).Should().BeCloseTo(Grace, TimeSpan.FromSeconds(5));
        (await _store.RemoveExpiredAsync(_t0, 10)).Select(static s => s.Id).Should().Equal(session.Id);
    }

    [Fact]
    public async Task RemoveExpiredAsync_SessionSlidSinceItWasScheduled_IsRescheduledAtItsCurrentExpiry()
    {
        var session = NewSession(userId: "slid");
        await _store.CreateAsync(session, _t0);
        await _store.TouchAsync(session.Id, _t0 + TimeSpan.FromMinutes(15));

        var removed = await _store.RemoveExpiredAsync(_t0 + TimeSpan.FromMinutes(21), 10);

        removed.Should().BeEmpty();
        var expected = (_t0 + TimeSpan.FromMinutes(35)).ToUnixTimeMilliseconds();
        (await Db.SortedSetScoreAsync(RedisLayout.ExpiryKey(_prefix, session.Id), session.Id)).Should().Be(expected);
        (await Db.SortedSetScoreAsync(_prefix + "u:slid", session.Id)).Should().Be(expected);
        (await _store.RemoveExpiredAsync(_t0 + TimeSpan.FromMinutes(35), 10)).Select(static s => s.Id).Should().Equal(session.Id);
    }

    [Fact]
    public async Task RemoveExpiredAsync_RemovesTheSessionFromBothIndexes()
    {
        var session = NewSession(userId: "gone");
        await _store.CreateAsync(session, _t0);

        (await _store.RemoveExpiredAsync(_t0 + Idle, 10)).Should().ContainSingle();

        (await Db.KeyExistsAsync(SessionKey(session.Id))).Should().BeFalse();
        (await Db.SortedSetScoreAsync(RedisLayout.ExpiryKey(_prefix, session.Id), session.Id)).Should().BeNull();
        (await Db.SortedSetScoreAsync(_prefix + "u:gone", session.Id)).Should().BeNull();
    }

    [Fact]
    public async Task RemoveExpiredAsync_EntryWhoseHashTheTtlAlreadyReclaimed_IsDroppedWithoutReport()
    {
        var session = NewSession();
        await _store.CreateAsync(session, _t0);
        await Db.KeyDeleteAsync(SessionKey(session.Id)); // what the Redis TTL does after the grace margin

        (await _store.RemoveExpiredAsync(_t0 + Idle, 10)).Should().BeEmpty();

        (await Db.SortedSetScoreAsync(RedisLayout.ExpiryKey(_prefix, session.Id), session.Id)).Should().BeNull();
    }

    [Fact]
    public async Task QueryByUser_EntryWhoseHashIsGone_IsSkippedAndPrunedOnceItsScoreHasPassed()
    {
        var live = NewSession(userId: "heal");
        var vanished = NewSession(userId: "heal");
        await _store.CreateAsync(live, _t0);
        await _store.CreateAsync(vanished, _t0);
        await Db.KeyDeleteAsync(SessionKey(vanished.Id));

        var early = await _store.QueryAsync(new SessionQuery { UserId = "heal" }, _t0);
        early.Sessions.Select(static s => s.Id).Should().Equal(live.Id);
        (await Db.SortedSetScoreAsync(_prefix + "u:heal", vanished.Id)).Should().NotBeNull("a fresh entry may belong to a create still in flight");

        await _store.TouchAsync(live.Id, _t0 + TimeSpan.FromMinutes(19));
        var late = await _store.QueryAsync(new SessionQuery { UserId = "heal" }, _t0 + TimeSpan.FromMinutes(21));
        late.Sessions.Select(static s => s.Id).Should().Equal(live.Id);
        (await Db.SortedSetScoreAsync(_prefix + "u:heal", vanished.Id)).Should().BeNull("a due entry without a hash is pruned on read");
        (await Db.SortedSetScoreAsync(_prefix + "u:heal", live.Id)).Should().NotBeNull("a live session is never pruned, whatever its score");
        _logs.Entries.Should().Contain(static e => e.EventId.Id == 203);
    }

    [Fact]
    public async Task QueryByUser_EntryOfASessionThatMovedToAnotherUser_IsPrunedOnceDue()
    {
        var session = NewSession(userId: "old-owner");
        await _store.CreateAsync(session, _t0);
        await Db.SortedSetAddAsync(_prefix + "u:stale-owner", session.Id, _t0.ToUnixTimeMilliseconds());

        (await _store.QueryAsync(new SessionQuery { UserId = "stale-owner" }, _t0 + TimeSpan.FromSeconds(1))).Sessions.Should().BeEmpty();

        (await Db.SortedSetScoreAsync(_prefix + "u:stale-owner", session.Id)).Should().BeNull();
        (await Db.SortedSetScoreAsync(_prefix + "u:old-owner", session.Id)).Should().NotBeNull();
    }

    [Fact]
    public async Task QueryByUser_PagingWithLimit1WhileSessionsAreDeleted_SkipsNoSurvivor()
    {
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var session = NewSession(userId: "pager");
            ids.Add(session.Id);
            await _store.CreateAsync(session, _t0); // same score for all: the member order decides
        }

        var seen = new List<string>();
        string? cursor = null;
        for (var page = 0; page < 20; page++)
        {
            var result = await _store.QueryAsync(new SessionQuery { UserId = "pager", Limit = 1, Cursor = cursor }, _t0);
            seen.AddRange(result.Sessions.Select(static s => s.Id));
            if (page == 1)
            {
                // Delete one already listed and one not yet listed.
                await _store.DeleteAsync(seen[0], _t0);
                await _store.DeleteAsync(ids.Except(seen).First(), _t0);
            }

            cursor = result.NextCursor;
            if (cursor is null)
            {
                break;
            }
        }

        var survivors = new List<string>();
        foreach (var id in ids)
        {
            if (await _store.ExistsAsync(id, _t0))
            {
                survivors.Add(id);
            }
        }

        survivors.Should().HaveCount(4);
        seen.Should().OnlyHaveUniqueItems().And.Contain(survivors);
    }

    [Fact]
    public async Task QueryAll_PagingOver250SessionsWithLimit7_EveryPageWithinLimitAndUnionComplete()
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 250; i++)
        {
            var session = NewSession(kind: i % 2 == 0 ? "even" : "odd");
            ids.Add(session.Id);
            await _store.CreateAsync(session, _t0);
        }

        var seen = new List<string>();
        string? cursor = null;
        for (var page = 0; page < 500; page++)
        {
            var result = await _store.QueryAsync(new SessionQuery { Limit = 7, Cursor = cursor }, _t0);
            result.Sessions.Count.Should().BeLessThanOrEqualTo(7);
            seen.AddRange(result.Sessions.Select(static s => s.Id));
            cursor = result.NextCursor;
            if (cursor is null)
            {
                break;
            }
        }

        cursor.Should().BeNull();
        seen.Distinct().Should().BeEquivalentTo(ids);
    }

    [Fact]
    public async Task QueryAll_KeyPrefixWithGlobCharacters_ListsOnlyItsOwnSessions()
    {
        var globPrefix = "sktest:g*[a]?\\" + Guid.NewGuid().ToString("N")[..6] + ":";
        var lookalike = globPrefix.Replace("*", "X", StringComparison.Ordinal);
        await using var globStore = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { ConnectionMultiplexer = redis.Multiplexer, KeyPrefix = globPrefix }));
        await using var otherStore = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { ConnectionMultiplexer = redis.Multiplexer, KeyPrefix = lookalike }));
        var mine = NewSession();
        await globStore.CreateAsync(mine, _t0);
        await otherStore.CreateAsync(NewSession(), _t0);

        var listed = await globStore.QueryAsync(new SessionQuery { Limit = 1000 }, _t0);
        while (listed.NextCursor is not null && listed.Sessions.Count == 0)
        {
            listed = await globStore.QueryAsync(new SessionQuery { Limit = 1000, Cursor = listed.NextCursor }, _t0);
        }

        listed.Sessions.Select(static s => s.Id).Should().Equal(mine.Id);
        await redis.DeletePrefixAsync(globPrefix.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("*", "\\*", StringComparison.Ordinal).Replace("[", "\\[", StringComparison.Ordinal).Replace("]", "\\]", StringComparison.Ordinal).Replace("?", "\\?", StringComparison.Ordinal));
        await redis.DeletePrefixAsync(lookalike.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("[", "\\[", StringComparison.Ordinal).Replace("]", "\\]", StringComparison.Ordinal).Replace("?", "\\?", StringComparison.Ordinal));
    }

    [Fact]
    public async Task QueryAsync_CursorOfTheOtherQueryKind_ThrowsArgumentException()
    {
        for (var i = 0; i < 3; i++)
        {
            await _store.CreateAsync(NewSession(userId: "c"), _t0);
        }

        var userPage = await _store.QueryAsync(new SessionQuery { UserId = "c", Limit = 1 }, _t0);

        var act = async () => await _store.QueryAsync(new SessionQuery { Limit = 1, Cursor = userPage.NextCursor }, _t0);
        await act.Should().ThrowAsync<ArgumentException>();
        var truncated = async () => await _store.QueryAsync(new SessionQuery { UserId = "c", Cursor = userPage.NextCursor![..6] }, _t0);
        await truncated.Should().ThrowAsync<ArgumentException>();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task QueryAll_CursorOfTheSingleNodeFormat_ThrowsArgumentException(byte doneFlag)
    {
        await _store.CreateAsync(NewSession(), _t0);

        // Format 1: tag, done flag, the one node's SCAN cursor; format 2 names a primary as well.
        var payload = new byte[10];
        payload[0] = (byte)'S';
        payload[1] = doneFlag;
        var old = "r1." + System.Buffers.Text.Base64Url.EncodeToString(payload);

        var act = async () => await _store.QueryAsync(new SessionQuery { Limit = 10, Cursor = old }, _t0);
        await act.Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public async Task UnreadableHash_IsAbsentToEveryOperation_AndLoggedWithoutTheId()
    {
        var id = "corrupt-" + Guid.NewGuid().ToString("N");
        await Db.HashSetAsync(SessionKey(id), [new HashEntry("v", "1"), new HashEntry("la", "yesterday"), new HashEntry("idle", "x"), new HashEntry("ver", "1"), new HashEntry("ca", "0")]);

        (await _store.GetAsync(id, _t0)).Should().BeNull();
        (await _store.ExistsAsync(id, _t0)).Should().BeFalse();
        (await _store.TouchAsync(id, _t0)).Should().BeFalse();
        (await _store.UpdateAsync(id, new SessionChanges().SetMetadata("k", "v"), _t0, 1024)).Status.Should().Be(SessionUpdateStatus.NotFound);

        _logs.Entries.Should().Contain(static e => e.EventId.Id == 200);
        _logs.Entries.Should().NotContain(e => e.AllText.Contains(id, StringComparison.Ordinal));
        (await _store.CreateAsync(NewSession() with { Id = id }, _t0)).Should().BeTrue("an unreadable record under our prefix counts as absent");
        (await _store.GetAsync(id, _t0)).Should().NotBeNull();
    }

    [Fact]
    public async Task StateValueThatIsNotJson_MakesTheSessionUnreadableNotACrash()
    {
        var session = NewSession();
        await _store.CreateAsync(session, _t0);
        await Db.HashSetAsync(SessionKey(session.Id), "s:broken", "{not json");

        (await _store.GetAsync(session.Id, _t0)).Should().BeNull();
        _logs.Entries.Should().Contain(static e => e.EventId.Id == 200 && e.Message.Contains("JSON", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HashOfAFutureFormatVersion_IsAbsentAndIsNeverOverwrittenWhileItLooksLive()
    {
        var session = NewSession();
        await _store.CreateAsync(session, _t0);
        await Db.HashSetAsync(SessionKey(session.Id), "v", "99");

        (await _store.GetAsync(session.Id, _t0)).Should().BeNull();
        (await _store.ExistsAsync(session.Id, _t0)).Should().BeFalse();
        (await _store.TouchAsync(session.Id, _t0)).Should().BeFalse();
        (await _store.UpdateAsync(session.Id, new SessionChanges().SetMetadata("k", "v"), _t0, 1024)).Status.Should().Be(SessionUpdateStatus.NotFound);
        (await _store.CreateAsync(session, _t0)).Should().BeFalse("a record a newer release wrote is not destroyed by a create");
        (await Db.HashGetAsync(SessionKey(session.Id), "v")).Should().Be("99");
        await Db.HashSetAsync(SessionKey(session.Id), "v", "not-a-number");
        (await _store.ExistsAsync(session.Id, _t0)).Should().BeFalse("an unreadable format field is absent, not an exception");
        (await _store.GetAsync(session.Id, _t0)).Should().BeNull();
    }

    [Fact]
    public async Task ScriptCacheFlushed_EveryScriptIsSentAgainAndWorks()
    {
        var session = NewSession(userId: "flush");
        await _store.CreateAsync(session, _t0);
        await redis.Multiplexer.GetServer(redis.Server.EndPoint).ScriptFlushAsync();

        (await _store.TouchAsync(session.Id, _t0 + TimeSpan.FromSeconds(1))).Should().BeTrue();
        (await _store.UpdateAsync(session.Id, new SessionChanges().SetMetadata("k", "v"), _t0 + TimeSpan.FromSeconds(2), 1024)).IsUpdated.Should().BeTrue();
        (await _store.CreateAsync(NewSession(), _t0)).Should().BeTrue();
        (await _store.DeleteAsync(session.Id, _t0)).Should().NotBeNull();

        _logs.Entries.Count(static e => e.EventId.Id == 201).Should().BeGreaterThanOrEqualTo(1);
    }

    [Fact]
    public async Task HugeValues_ThroughCreateAndUpdate_RoundTrip()
    {
        var fourMiB = new string('x', 4 * 1024 * 1024);
        var session = NewSession() with { Metadata = new Dictionary<string, string> { ["huge"] = fourMiB } };
        await _store.CreateAsync(session, _t0);

        var changes = new SessionChanges().SetBinding("huge", fourMiB);
        for (var i = 0; i < 3000; i++)
        {
            changes.SetState("k" + i, i); // 3,000 fields: more than one Lua call's argument limit, applied in chunks
        }

        var updated = await _store.UpdateAsync(session.Id, changes, _t0, 8 * 1024 * 1024);

        updated.IsUpdated.Should().BeTrue();
        var loaded = (await _store.GetAsync(session.Id, _t0))!;
        loaded.Metadata["huge"].Should().HaveLength(fourMiB.Length);
        loaded.Binding["huge"].Should().HaveLength(fourMiB.Length);
        loaded.State.Should().HaveCount(3000);
        loaded.State["k2999"].GetInt32().Should().Be(2999);
        loaded.GetStateSize().Should().Be(updated.Session!.GetStateSize());
    }

    [Fact]
    public async Task UpdateAsync_OverLimit_ReportsTheSameSizeTheModelMeasuresAndWritesNothing()
    {
        var session = NewSession() with { State = new Dictionary<string, JsonElement> { ["é"] = JsonSerializer.SerializeToElement("😀😀") } };
        await _store.CreateAsync(session, _t0);
        var changes = new SessionChanges().SetState("ключ", "\u0000\u001f\ud83d\ude00");
        var expected = changes.ApplyTo(session, _t0).GetStateSize();

        var act = async () => await _store.UpdateAsync(session.Id, changes, _t0, expected - 1);

        var thrown = (await act.Should().ThrowAsync<SessionStateTooLargeException>()).Which;
        thrown.Size.Should().Be(expected);
        thrown.Limit.Should().Be(expected - 1);
        (await _store.GetAsync(session.Id, _t0))!.Version.Should().Be(1);
        (await _store.UpdateAsync(session.Id, changes, _t0, expected)).IsUpdated.Should().BeTrue("exactly at the limit is allowed");
    }

    [Fact]
    public async Task BinaryLookingStateAndProtocolLookingIds_RoundTripAndStayIsolated()
    {
        var binaryish = new string(Enumerable.Range(0, 0x20).Select(static c => (char)c).ToArray()) + "\u007f\u0080\ufffe\uffff\"\\/";
        var escapedSurrogate = JsonDocument.Parse("\"\\ud800 lone\"").RootElement.Clone();
        var ids = new[] { "*3\r\n$3\r\nDEL\r\n$1\r\n*\r\n", "s:nested", "\0", "{" + new string('}', 3), "a b\tc" };
        foreach (var id in ids)
        {
            var session = NewSession(userId: "u\r\n*") with
            {
                Id = id,
                Metadata = new Dictionary<string, string> { ["s:not-state"] = binaryish },
                State = new Dictionary<string, JsonElement> { ["bin"] = JsonSerializer.SerializeToElement(binaryish), ["lone"] = escapedSurrogate },
            };
            (await _store.CreateAsync(session, _t0)).Should().BeTrue();
        }

        foreach (var id in ids)
        {
            var loaded = (await _store.GetAsync(id, _t0))!;
            loaded.Id.Should().Be(id);
            loaded.Metadata.Should().ContainSingle().Which.Value.Should().Be(binaryish);
            loaded.State["bin"].GetString().Should().Be(binaryish);
            loaded.State["lone"].GetRawText().Should().Be("\"\\ud800 lone\"");
            loaded.GetStateSize().Should().Be(loaded.GetStateSize());
        }

        (await _store.QueryAsync(new SessionQuery { UserId = "u\r\n*" }, _t0)).Sessions.Select(static s => s.Id).Should().BeEquivalentTo(ids);
    }

    [Fact]
    public async Task GetAsync_UnchangedHash_ReusesTheSnapshot_AndAnyChangedByteIsReadAfresh()
    {
        var session = NewSession() with { Metadata = new Dictionary<string, string> { ["tenant"] = "t1" } };
        await _store.CreateAsync(session, _t0);

        var first = await _store.GetAsync(session.Id, _t0);
        var second = await _store.GetAsync(session.Id, _t0);
        await Db.HashSetAsync(SessionKey(session.Id), "m:tenant", "t2"); // same length, one byte differs
        var third = await _store.GetAsync(session.Id, _t0);

        second.Should().BeSameAs(first, "the hash did not change, so the immutable snapshot is reused");
        third!.Metadata["tenant"].Should().Be("t2");
        (await _store.GetAsync(session.Id, _t0 + Idle)).Should().BeNull("a reused snapshot is still checked for expiry");
        await _store.DeleteAsync(session.Id, _t0);
        (await _store.GetAsync(session.Id, _t0)).Should().BeNull();
    }

    [Fact]
    public async Task DeeplyNestedStateValue_RoundTrips()
    {
        var deep = JsonDocument.Parse(new string('[', 300) + "1" + new string(']', 300), new JsonDocumentOptions { MaxDepth = 400 }).RootElement.Clone();
        var session = NewSession() with { State = new Dictionary<string, JsonElement> { ["deep"] = deep, ["flat"] = JsonSerializer.SerializeToElement(1) } };

        await _store.CreateAsync(session, _t0);

        (await _store.GetAsync(session.Id, _t0))!.State["deep"].GetRawText().Should().Be(deep.GetRawText());
    }

    [Fact]
    public async Task IdsThatAreNotWellFormedUtf16_AreRejectedOnCreateAndAbsentOtherwise()
    {
        var broken = "abc\ud800";

        var create = async () => await _store.CreateAsync(NewSession() with { Id = broken }, _t0);

        await create.Should().ThrowAsync<ArgumentException>();
        (await _store.GetAsync(broken, _t0)).Should().BeNull();
        (await _store.ExistsAsync(broken, _t0)).Should().BeFalse();
        (await _store.TouchAsync(broken, _t0)).Should().BeFalse();
        (await _store.DeleteAsync(broken, _t0)).Should().BeNull();
        (await _store.UpdateAsync(broken, new SessionChanges().SetMetadata("k", "v"), _t0, 10)).Status.Should().Be(SessionUpdateStatus.NotFound);
    }

    [Fact]
    public async Task UpdateAsync_AfterAnotherNodeChangedTheSnapshotThisStoreRead_ReturnsTheStoredSessionNotAMergeOfTheStaleOne()
    {
        await using var other = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { ConnectionMultiplexer = redis.Multiplexer, KeyPrefix = _prefix, ExpiryGracePeriod = Grace }));
        var session = NewSession() with { Metadata = new Dictionary<string, string> { ["a"] = "1" } };
        await _store.CreateAsync(session, _t0);
        (await _store.GetAsync(session.Id, _t0)).Should().NotBeNull(); // this store now knows version 1
        (await other.UpdateAsync(session.Id, new SessionChanges().SetMetadata("b", "2"), _t0 + TimeSpan.FromSeconds(1), 1024)).IsUpdated.Should().BeTrue();
        (await other.TouchAsync(session.Id, _t0 + TimeSpan.FromSeconds(2))).Should().BeTrue();

        var result = await _store.UpdateAsync(session.Id, new SessionChanges().SetMetadata("c", "3"), _t0 + TimeSpan.FromSeconds(1), 1024);

        result.Session!.Metadata.Should().BeEquivalentTo(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2", ["c"] = "3" });
        result.Session.Version.Should().Be(3);
        result.Session.Should().BeEquivalentTo(await _store.GetAsync(session.Id, _t0 + TimeSpan.FromSeconds(2)), o => o.Excluding(static s => s!.State));
    }

    [Fact]
    public async Task UpdateAsync_AfterTheIdWasDeletedAndCreatedAgainAtTheSameVersion_IsNotTakenForTheSnapshotReadBefore()
    {
        await using var other = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { ConnectionMultiplexer = redis.Multiplexer, KeyPrefix = _prefix, ExpiryGracePeriod = Grace }));
        var first = NewSession() with { Metadata = new Dictionary<string, string> { ["who"] = "first" } };
        await _store.CreateAsync(first, _t0);
        (await _store.GetAsync(first.Id, _t0)).Should().NotBeNull();
        (await other.DeleteAsync(first.Id, _t0)).Should().NotBeNull();
        (await other.CreateAsync(first with { Metadata = new Dictionary<string, string> { ["who"] = "second" } }, _t0)).Should().BeTrue();

        var result = await _store.UpdateAsync(first.Id, new SessionChanges().SetMetadata("k", "v"), _t0, 1024);

        result.Session!.Metadata["who"].Should().Be("second", "the nonce tells the second incarnation from the first, though both are at version 1");
        result.Session.Version.Should().Be(2);
    }

    [Fact]
    public async Task UpdateAsync_StateSizeKeptIncrementally_MatchesTheModelAcrossSetsReplacementsAndRemovals()
    {
        var session = NewSession() with { State = new Dictionary<string, JsonElement> { ["a"] = JsonSerializer.SerializeToElement(new string('a', 100)) } };
        await _store.CreateAsync(session, _t0);
        var steps = new[]
        {
            new SessionChanges().SetState("b", JsonSerializer.SerializeToElement(new string('b', 50))),
            new SessionChanges().SetState("a", JsonSerializer.SerializeToElement(7)),
            new SessionChanges().RemoveState("b").RemoveState("never-there"),
            new SessionChanges().SetState("ü", JsonSerializer.SerializeToElement("ö")),
        };

        foreach (var (step, i) in steps.Select(static (s, i) => (s, i)))
        {
            // Alternate a store that knows the snapshot (the size is computed from it) and one that does not (kept by
            // the script from the old values' lengths).
            await using var stranger = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { ConnectionMultiplexer = redis.Multiplexer, KeyPrefix = _prefix, ExpiryGracePeriod = Grace }));
            var result = await (i % 2 == 0 ? stranger : _store).UpdateAsync(session.Id, step, _t0, 1024);
            var stored = await Db.HashGetAsync(SessionKey(session.Id), "sz");
            ((long)stored).Should().Be(result.Session!.GetStateSize(), "sz is the model's measure after every step");
            (await _store.GetAsync(session.Id, _t0))!.GetStateSize().Should().Be((long)stored);
        }

        // The limit is checked against the kept size: one byte over fails and writes nothing.
        var size = (await _store.GetAsync(session.Id, _t0))!.GetStateSize();
        var over = async () => await _store.UpdateAsync(session.Id, new SessionChanges().SetState("z", JsonSerializer.SerializeToElement(new string('z', (int)(201 - size) - 1 - 2))), _t0, 200);
        (await over.Should().ThrowAsync<SessionStateTooLargeException>()).Which.Size.Should().Be(201);
        (await _store.GetAsync(session.Id, _t0))!.State.Should().NotContainKey("z");
    }

    private RedisKey SessionKey(string id) => RedisLayout.SessionKey(_prefix, id);

    private static string Ms(DateTimeOffset value) => value.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);

    private Session NewSession(string? userId = null, string? kind = null, DateTimeOffset? at = null) => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        UserId = userId,
        Kind = kind,
        CreatedAt = at ?? _t0,
        LastAccessedAt = at ?? _t0,
        IdleTimeout = Idle,
        Version = 1,
    };
}
