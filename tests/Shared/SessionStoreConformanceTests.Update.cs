using System.Text.Json;
using static SessionKit.Tests.SessionAssertions;

namespace SessionKit.Tests;

public abstract partial class SessionStoreConformanceTests
{
    [Fact]
    public async Task UpdateAsync_MetadataSetAndRemove_KeepsUnnamedKeys()
    {
        var session = await CreateLiveAsync(NewSession() with
        {
            Metadata = new Dictionary<string, string> { ["keep"] = "k", ["replace"] = "old", ["remove"] = "gone" },
        });

        var result = await UpdateOrFailAsync(session.Id, new SessionChanges().SetMetadata("replace", "new").SetMetadata("add", "a").RemoveMetadata("remove").RemoveMetadata("never-there"), T0 + Ms(1));

        var expected = new Dictionary<string, string> { ["keep"] = "k", ["replace"] = "new", ["add"] = "a" };
        result.Metadata.Should().BeEquivalentTo(expected);
        (await Store.GetAsync(session.Id, T0 + Ms(1)))!.Metadata.Should().BeEquivalentTo(expected);
    }

    [Fact]
    public async Task UpdateAsync_StateSetAndRemove_KeepsUnnamedKeys()
    {
        var session = await CreateLiveAsync(NewSession() with
        {
            State = new Dictionary<string, JsonElement> { ["keep"] = Json(new[] { 1, 2 }), ["replace"] = Json("old"), ["remove"] = Json(3) },
        });

        var result = await UpdateOrFailAsync(session.Id, new SessionChanges().SetState("replace", Json(new { v = 2 })).SetState("add", Json(true)).RemoveState("remove").RemoveState("never-there"), T0 + Ms(1));

        var loaded = await Store.GetAsync(session.Id, T0 + Ms(1));
        foreach (var snapshot in new[] { result, loaded! })
        {
            snapshot.State.Keys.Should().BeEquivalentTo("keep", "replace", "add");
            snapshot.StateText("keep").Should().Be("[1,2]");
            snapshot.StateText("replace").Should().Be("""{"v":2}""");
            snapshot.StateText("add").Should().Be("true");
        }
    }

    [Fact]
    public async Task UpdateAsync_BindingSetAndRemove_KeepsUnnamedKeys()
    {
        var session = await CreateLiveAsync(NewSession() with
        {
            Binding = new Dictionary<string, string> { ["salt"] = "c2FsdA", ["hash"] = "old", ["ip"] = "10.0.0.0/24" },
        });

        var result = await UpdateOrFailAsync(session.Id, new SessionChanges().SetBinding("hash", "new").SetBinding("identity", "iss|sub").RemoveBinding("ip"), T0 + Ms(1));

        var expected = new Dictionary<string, string> { ["salt"] = "c2FsdA", ["hash"] = "new", ["identity"] = "iss|sub" };
        result.Binding.Should().BeEquivalentTo(expected);
        (await Store.GetAsync(session.Id, T0 + Ms(1)))!.Binding.Should().BeEquivalentTo(expected);
    }

    [Fact]
    public async Task UpdateAsync_SetUserIdAndKind_ReplacesThem()
    {
        var session = await CreateLiveAsync(NewSession(userId: "alice", kind: "sse"));

        var result = await UpdateOrFailAsync(session.Id, new SessionChanges().SetUserId("bob").SetKind("chat"), T0 + Ms(1));

        var loaded = await Store.GetAsync(session.Id, T0 + Ms(1));
        foreach (var snapshot in new[] { result, loaded! })
        {
            snapshot.UserId.Should().Be("bob");
            snapshot.Kind.Should().Be("chat");
        }
    }

    [Fact]
    public async Task UpdateAsync_ClearUserIdAndKind_ClearsThem()
    {
        var session = await CreateLiveAsync(NewSession(userId: "alice", kind: "sse"));

        var result = await UpdateOrFailAsync(session.Id, new SessionChanges().SetUserId(null).SetKind(null), T0 + Ms(1));

        var loaded = await Store.GetAsync(session.Id, T0 + Ms(1));
        foreach (var snapshot in new[] { result, loaded! })
        {
            snapshot.UserId.Should().BeNull();
            snapshot.Kind.Should().BeNull();
        }
    }

    [Fact]
    public async Task UpdateAsync_WithoutUserIdOrKindChange_KeepsThem()
    {
        var session = await CreateLiveAsync(NewSession(userId: "alice", kind: "sse"));

        await UpdateOrFailAsync(session.Id, new SessionChanges().SetMetadata("m", "v"), T0 + Ms(1));

        var loaded = await Store.GetAsync(session.Id, T0 + Ms(1));
        loaded!.UserId.Should().Be("alice");
        loaded.Kind.Should().Be("sse");
    }

    [Fact]
    public async Task UpdateAsync_Live_IncrementsVersionByOneEachTime()
    {
        var session = await CreateLiveAsync(NewSession());

        var first = await UpdateOrFailAsync(session.Id, new SessionChanges().SetMetadata("n", "1"), T0 + Ms(1));
        var second = await UpdateOrFailAsync(session.Id, new SessionChanges().SetMetadata("n", "2"), T0 + Ms(2));

        first.Version.Should().Be(2);
        second.Version.Should().Be(3);
        (await Store.GetAsync(session.Id, T0 + Ms(2)))!.Version.Should().Be(3);
    }

    [Fact]
    public async Task UpdateAsync_Live_SlidesLastAccessedAtAndExpiry()
    {
        var session = await CreateLiveAsync(NewSession());
        var now = T0 + TimeSpan.FromMinutes(15);

        var result = await UpdateOrFailAsync(session.Id, new SessionChanges().SetMetadata("m", "v"), now);

        result.LastAccessedAt.Should().Be(now);
        (await Store.GetAsync(session.Id, now + Idle - Ms(1))).Should().NotBeNull("an update slides the expiry");
        (await Store.GetAsync(session.Id, now + Idle)).Should().BeNull();
    }

    [Fact]
    public async Task UpdateAsync_EarlierThanLastAccess_DoesNotMoveLastAccessedAtBackwards()
    {
        var session = await CreateLiveAsync(NewSession());
        var later = T0 + TimeSpan.FromMinutes(10);
        (await Store.TouchAsync(session.Id, later)).Should().BeTrue();

        var result = await UpdateOrFailAsync(session.Id, new SessionChanges().SetMetadata("m", "v"), T0 + TimeSpan.FromMinutes(5));

        result.LastAccessedAt.Should().Be(later);
        (await Store.GetAsync(session.Id, later))!.LastAccessedAt.Should().Be(later);
    }

    [Fact]
    public async Task UpdateAsync_Live_ResultIsNewSnapshotEqualToSubsequentGet()
    {
        var session = await CreateLiveAsync(NewRichSession());
        var now = T0 + TimeSpan.FromMinutes(3);
        var changes = new SessionChanges()
            .SetUserId("carol")
            .SetMetadata("tenant", "t-2")
            .RemoveMetadata("region")
            .SetState("cart", Json(new { items = new[] { "a", "b" } }))
            .RemoveState("flag")
            .SetBinding("hash", "rotated");

        var result = await Store.UpdateAsync(session.Id, changes, now, DefaultMaxStateBytes);

        result.Status.Should().Be(SessionUpdateStatus.Updated);
        result.IsUpdated.Should().BeTrue();
        var expected = changes.ApplyTo(session, now);
        result.Session.ShouldEqualSnapshot(expected, "the result carries the new snapshot");
        (await Store.GetAsync(session.Id, now)).ShouldEqualSnapshot(expected, "a get after the update returns what the update returned");
    }

    [Fact]
    public async Task UpdateAsync_MissingId_ReturnsNotFoundAndCreatesNothing()
    {
        var id = NewId();

        var result = await Store.UpdateAsync(id, new SessionChanges().SetUserId("u").SetMetadata("m", "v"), T0, DefaultMaxStateBytes);

        result.Status.Should().Be(SessionUpdateStatus.NotFound);
        result.Session.Should().BeNull();
        (await Store.GetAsync(id, T0)).Should().BeNull();
        (await Store.ExistsAsync(id, T0)).Should().BeFalse();
        (await QueryAllAsync(new SessionQuery(), T0)).Should().BeEmpty();
    }

    [Fact]
    public async Task UpdateAsync_AfterDelete_ReturnsNotFoundAndDoesNotRecreate()
    {
        var session = await CreateLiveAsync(NewSession(userId: "u"));
        (await Store.DeleteAsync(session.Id, T0 + Ms(1))).Should().NotBeNull();

        var result = await Store.UpdateAsync(session.Id, new SessionChanges().SetMetadata("late", "write"), T0 + Ms(2), DefaultMaxStateBytes);

        result.Status.Should().Be(SessionUpdateStatus.NotFound);
        (await Store.GetAsync(session.Id, T0 + Ms(2))).Should().BeNull("a late write never resurrects a deleted session");
        (await Store.GetAsync(session.Id, T0)).Should().BeNull();
        (await QueryAllAsync(new SessionQuery { UserId = "u" }, T0 + Ms(2))).Should().BeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UpdateAsync_Expired_ReturnsNotFoundAndSessionStaysInvisible(bool absoluteExpiry)
    {
        var (session, expiresAt) = ExpiringSession(absoluteExpiry);
        await CreateLiveAsync(session);

        var result = await Store.UpdateAsync(session.Id, new SessionChanges().SetMetadata("late", "write"), expiresAt, DefaultMaxStateBytes);

        result.Status.Should().Be(SessionUpdateStatus.NotFound);
        (await Store.GetAsync(session.Id, expiresAt)).Should().BeNull("an update must not revive an expired session");
        if (await Store.GetAsync(session.Id, T0) is { } record)
        {
            // The expired record may still be stored (or may have been reclaimed); if it is, it is untouched.
            record.ShouldEqualSnapshot(session, "nothing was written");
        }
    }

    [Fact]
    public async Task UpdateAsync_ExpectedVersionMismatch_ReturnsConflictAndWritesNothing()
    {
        var session = await CreateLiveAsync(NewSession());
        var current = await UpdateOrFailAsync(session.Id, new SessionChanges().SetMetadata("m", "first"), T0 + Ms(1));

        var result = await Store.UpdateAsync(
            session.Id,
            new SessionChanges { ExpectedVersion = 1 }.SetMetadata("m", "second").SetState("s", Json(1)),
            T0 + TimeSpan.FromMinutes(5),
            DefaultMaxStateBytes);

        result.Status.Should().Be(SessionUpdateStatus.Conflict);
        result.Session.Should().BeNull();
        if (result.CurrentVersion is { } reported)
        {
            reported.Should().Be(2, "when reported, it is the session's current version");
        }

        (await Store.GetAsync(session.Id, T0 + TimeSpan.FromMinutes(5))).ShouldEqualSnapshot(current, "a conflict writes nothing, not even a slide");
    }

    [Fact]
    public async Task UpdateAsync_ExpectedVersionMatches_ReturnsUpdated()
    {
        var session = await CreateLiveAsync(NewSession());
        await UpdateOrFailAsync(session.Id, new SessionChanges().SetMetadata("m", "first"), T0 + Ms(1));

        var result = await Store.UpdateAsync(session.Id, new SessionChanges { ExpectedVersion = 2 }.SetMetadata("m", "second"), T0 + Ms(2), DefaultMaxStateBytes);

        result.Status.Should().Be(SessionUpdateStatus.Updated);
        result.Session!.Version.Should().Be(3);
        (await Store.GetAsync(session.Id, T0 + Ms(2)))!.Metadata["m"].Should().Be("second");
    }

    [Fact]
    public async Task UpdateAsync_ExpectedVersionOnMissingSession_ReturnsNotFound()
    {
        var result = await Store.UpdateAsync(NewId(), new SessionChanges { ExpectedVersion = 1 }.SetMetadata("m", "v"), T0, DefaultMaxStateBytes);

        result.Status.Should().Be(SessionUpdateStatus.NotFound);
    }

    [Fact]
    public async Task UpdateAsync_64ParallelUpdatesToDisjointKeys_LoseNothing()
    {
        var session = await CreateLiveAsync(NewRichSession());

        var results = await RaceAsync(RaceWidth, i => Store.UpdateAsync(
            session.Id,
            new SessionChanges().SetState("k" + Str(i), Json(i)).SetMetadata("m" + Str(i), Str(i)),
            T0 + Ms(1 + i),
            DefaultMaxStateBytes).AsTask());

        results.Should().OnlyContain(static r => r.Status == SessionUpdateStatus.Updated);
        results.Select(static r => r.Session!.Version).Should().BeEquivalentTo(Enumerable.Range(2, RaceWidth).Select(static v => (long)v), "each update applies to a distinct version");
        var loaded = await Store.GetAsync(session.Id, T0 + Ms(RaceWidth + 1));
        loaded!.Version.Should().Be(RaceWidth + 1);
        for (var i = 0; i < RaceWidth; i++)
        {
            loaded.StateText("k" + Str(i)).Should().Be(Str(i), "the update of key k{0} must not be lost", i);
            loaded.Metadata.Should().Contain("m" + Str(i), Str(i));
        }

        foreach (var (key, value) in session.State)
        {
            loaded.StateText(key).Should().Be(value.GetRawText(), "keys no update named are kept");
        }

        foreach (var (key, value) in session.Metadata)
        {
            loaded.Metadata.Should().Contain(key, value);
        }
    }

    [Fact]
    public async Task UpdateAsync_64ParallelCompareAndSetsOnSameVersion_ExactlyOneWins()
    {
        var session = await CreateLiveAsync(NewSession());

        var results = await RaceAsync(RaceWidth, i => Store.UpdateAsync(
            session.Id,
            new SessionChanges { ExpectedVersion = 1 }.SetState("winner", Json(i)),
            T0 + Ms(1),
            DefaultMaxStateBytes).AsTask());

        results.Count(static r => r.Status == SessionUpdateStatus.Updated).Should().Be(1, "compare-and-set lets exactly one writer through");
        results.Count(static r => r.Status == SessionUpdateStatus.Conflict).Should().Be(RaceWidth - 1);
        var winner = Array.FindIndex(results, static r => r.IsUpdated);
        var loaded = await Store.GetAsync(session.Id, T0 + Ms(1));
        loaded!.Version.Should().Be(2);
        loaded.StateText("winner").Should().Be(Str(winner));
    }

    [Fact]
    public async Task UpdateAsync_MergedStateOverLimit_ThrowsWithSizeAndLimitAndWritesNothing()
    {
        const long limit = 100;
        var session = await CreateLiveAsync(NewSession() with
        {
            State = new Dictionary<string, JsonElement> { ["a"] = Json(new string('a', 58)) }, // 1 + 60 bytes
        });
        session.GetStateSize().Should().Be(61);
        var changes = new SessionChanges().SetState("b", Json(new string('b', 58))).SetMetadata("m", "v");
        var expectedSize = changes.ApplyTo(session, T0 + Ms(1)).GetStateSize();
        expectedSize.Should().Be(122, "the limit applies to the merged state, and each part alone is under it");

        var act = async () => await Store.UpdateAsync(session.Id, changes, T0 + TimeSpan.FromMinutes(1), limit);

        var thrown = (await act.Should().ThrowExactlyAsync<SessionStateTooLargeException>()).Which;
        thrown.Size.Should().Be(expectedSize);
        thrown.Limit.Should().Be(limit);
        (await Store.GetAsync(session.Id, T0 + TimeSpan.FromMinutes(1))).ShouldEqualSnapshot(session, "nothing was written");
    }

    [Fact]
    public async Task UpdateAsync_MergedStateExactlyAtLimit_Succeeds()
    {
        var session = await CreateLiveAsync(NewSession() with
        {
            State = new Dictionary<string, JsonElement> { ["a"] = Json(new string('a', 58)) },
        });
        var changes = new SessionChanges().SetState("b", Json(new string('b', 58)));
        var size = changes.ApplyTo(session, T0).GetStateSize();

        var result = await Store.UpdateAsync(session.Id, changes, T0 + Ms(1), size);

        result.Status.Should().Be(SessionUpdateStatus.Updated, "only a state larger than the limit is refused");
        result.Session!.GetStateSize().Should().Be(size);
    }

    [Fact]
    public async Task UpdateAsync_RemovingKeysFromOverLimitState_BringsItUnderAndSucceeds()
    {
        const long limit = 100;
        var session = await CreateLiveAsync(NewSession() with
        {
            State = new Dictionary<string, JsonElement>
            {
                ["a"] = Json(new string('a', 58)),
                ["b"] = Json(new string('b', 58)),
                ["c"] = Json(3),
            },
        });
        session.GetStateSize().Should().BeGreaterThan(limit);

        var result = await Store.UpdateAsync(session.Id, new SessionChanges().RemoveState("b").SetState("c", Json(4)), T0 + Ms(1), limit);

        result.Status.Should().Be(SessionUpdateStatus.Updated);
        var loaded = await Store.GetAsync(session.Id, T0 + Ms(1));
        loaded!.State.Keys.Should().BeEquivalentTo("a", "c");
        loaded.GetStateSize().Should().BeLessThanOrEqualTo(limit);
    }
}
