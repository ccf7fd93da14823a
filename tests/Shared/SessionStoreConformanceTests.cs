using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static SessionKit.Tests.SessionAssertions;

namespace SessionKit.Tests;

/// <summary>
/// The contract every <see cref="ISessionStore"/> passes (DESIGN §3). Each store's test class derives from this
/// class and supplies a fresh, empty, isolated store from <see cref="CreateStore"/>; a store is done when it passes
/// every test here.
/// </summary>
/// <remarks>
/// <para>Time: the store takes <c>now</c> on every call. Every instant here is <see cref="T0"/> (the real current
/// time, truncated to whole milliseconds, because the Redis store maps expiry to server TTLs) plus whole
/// milliseconds, and idle timeouts are minutes long, so nothing expires in real time during a test: logical expiry
/// is tested by passing a later <c>now</c>.</para>
/// <para>State values are built in System.Text.Json's canonical form (<see cref="SessionAssertions.Json{T}"/>), so
/// stores that re-serialize state can be compared by raw JSON text.</para>
/// </remarks>
public abstract class SessionStoreConformanceTests : IAsyncLifetime
{
    /// <summary>The state limit used where a test is not about the limit (the manager's default, 1 MiB).</summary>
    protected const long DefaultMaxStateBytes = 1024 * 1024;

    private const int RaceWidth = 64;
    private const int SweepRaceSessions = 200;
    private const int SweepRaceRounds = 3;
    private const int DeleteRaceIterations = 200;
    private const int MaxPages = 100;
    private const int MaxSweepCalls = 100;

    private static readonly Dictionary<string, string> _oddIds = new(StringComparer.Ordinal)
    {
        ["redis-special"] = "a:b{c}*?[x] ",
        ["glob-star"] = "*",
        ["hash-tag"] = "{tag}",
        ["path-like"] = "../../etc/passwd",
        ["non-ascii"] = "sessão-中文-😀-\u00e9\u0301",
        ["control-chars"] = "line\nbreak\ttab\r",
        ["nul-char"] = "nul\0byte",
        ["quotes"] = "q\"uote'back\\slash%s",
        ["long-1kb"] = string.Concat(Enumerable.Range(0, 1024).Select(static i => "AbCdEfGhIj0123456789-_xyzQ"[i % 26])),
    };

    private ISessionStore? _store;

    /// <summary>Gets the base instant of the test: the real current time, truncated to whole milliseconds.</summary>
    protected DateTimeOffset T0 { get; } = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    /// <summary>Gets the default idle timeout of sessions in this suite.</summary>
    protected static TimeSpan Idle { get; } = TimeSpan.FromMinutes(20);

    /// <summary>Gets the store under test, created by <see cref="InitializeAsync"/>.</summary>
    protected ISessionStore Store => _store ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    /// <summary>Gets the names of the odd-but-legal ids every store must handle (for theories).</summary>
    public static TheoryData<string> OddIdCases => [.. _oddIds.Keys];

    /// <summary>Creates a fresh, empty store, isolated from every other store this method returns.</summary>
    /// <returns>The store.</returns>
    protected abstract ISessionStore CreateStore();

    /// <summary>Creates <see cref="Store"/>.</summary>
    /// <returns>A task that completes when the store exists.</returns>
    public virtual Task InitializeAsync()
    {
        _store = CreateStore();
        return Task.CompletedTask;
    }

    /// <summary>Disposes <see cref="Store"/> through <see cref="DisposeStoreAsync"/>.</summary>
    /// <returns>A task that completes when the store is disposed.</returns>
    public virtual async Task DisposeAsync()
    {
        if (_store is { } store)
        {
            _store = null;
            await DisposeStoreAsync(store);
        }
    }

    /// <summary>Disposes a store created by <see cref="CreateStore"/>, if it is disposable.</summary>
    /// <param name="store">The store.</param>
    /// <returns>A task that completes when the store is disposed.</returns>
    protected virtual async ValueTask DisposeStoreAsync(ISessionStore store)
    {
        switch (store)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    // ───────────────────────────── Name ─────────────────────────────

    [Fact]
    public void Name_Always_IsNotEmpty()
    {
        Store.Name.Should().NotBeNullOrWhiteSpace();
    }

    // ───────────────────────────── Create ─────────────────────────────

    [Fact]
    public async Task CreateAsync_NewId_ReturnsTrue()
    {
        var created = await Store.CreateAsync(NewSession(), T0);

        created.Should().BeTrue();
    }

    [Fact]
    public async Task CreateAsync_FullyPopulatedSession_GetReturnsSnapshotEqualInEveryField()
    {
        var session = NewRichSession();

        await CreateLiveAsync(session);
        var loaded = await Store.GetAsync(session.Id, T0 + Ms(1));

        loaded.ShouldEqualSnapshot(session);
    }

    [Fact]
    public async Task CreateAsync_MinimalSession_GetReturnsNullOptionalFieldsAndEmptyDictionaries()
    {
        var session = NewSession();

        await CreateLiveAsync(session);
        var loaded = await Store.GetAsync(session.Id, T0);

        loaded.ShouldEqualSnapshot(session);
        loaded!.UserId.Should().BeNull();
        loaded.Kind.Should().BeNull();
        loaded.AbsoluteExpiresAt.Should().BeNull();
        loaded.Metadata.Should().BeEmpty();
        loaded.State.Should().BeEmpty();
        loaded.Binding.Should().BeEmpty();
    }

    [Fact]
    public async Task CreateAsync_ExistingLiveId_ReturnsFalseAndKeepsOriginal()
    {
        var original = NewRichSession();
        await CreateLiveAsync(original);
        var intruder = NewSession(original.Id, userId: "intruder", kind: "other") with
        {
            Metadata = new Dictionary<string, string> { ["owner"] = "intruder" },
            State = new Dictionary<string, JsonElement> { ["cart"] = Json("stolen") },
        };

        var created = await Store.CreateAsync(intruder, T0 + Ms(10));

        created.Should().BeFalse();
        (await Store.GetAsync(original.Id, T0 + Ms(10))).ShouldEqualSnapshot(original);
        (await QueryAllAsync(new SessionQuery { UserId = "intruder" }, T0 + Ms(10))).Should().BeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CreateAsync_ExpiredButUnsweptId_TreatsRecordAsAbsentAndReplacesIt(bool absoluteExpiry)
    {
        var (old, expiresAt) = ExpiringSession(absoluteExpiry, userId: "old-owner");
        await CreateLiveAsync(old);
        var replacement = NewSession(old.Id, userId: "new-owner", at: expiresAt) with
        {
            State = new Dictionary<string, JsonElement> { ["fresh"] = Json(true) },
        };

        var created = await Store.CreateAsync(replacement, expiresAt);

        created.Should().BeTrue("a record is expired when now >= ExpiresAt, and an expired record counts as absent");
        (await Store.GetAsync(old.Id, expiresAt + Ms(1))).ShouldEqualSnapshot(replacement);
        (await QueryIdsAsync(new SessionQuery { UserId = "old-owner" }, expiresAt + Ms(1))).Should().BeEmpty();
        (await QueryIdsAsync(new SessionQuery { UserId = "new-owner" }, expiresAt + Ms(1))).Should().Equal(old.Id);
    }

    [Fact]
    public async Task CreateAsync_AfterDelete_ReturnsTrue()
    {
        var session = await CreateLiveAsync(NewSession());
        (await Store.DeleteAsync(session.Id, T0)).Should().BeTrue();
        var again = NewSession(session.Id, userId: "second", at: T0 + Ms(5));

        var created = await Store.CreateAsync(again, T0 + Ms(5));

        created.Should().BeTrue();
        (await Store.GetAsync(session.Id, T0 + Ms(5))).ShouldEqualSnapshot(again);
    }

    [Fact]
    public async Task CreateAsync_64RacingCreatorsOfOneId_ExactlyOneWinsAndItsSessionIsStored()
    {
        var id = NewId();
        var candidates = Enumerable.Range(0, RaceWidth)
            .Select(i => NewSession(id, userId: "creator-" + Str(i)) with
            {
                Metadata = new Dictionary<string, string> { ["creator"] = Str(i) },
                State = new Dictionary<string, JsonElement> { ["creator"] = Json(i) },
            })
            .ToArray();

        var results = await RaceAsync(RaceWidth, i => Store.CreateAsync(candidates[i], T0).AsTask());

        results.Count(static created => created).Should().Be(1, "create is create-if-absent");
        var winner = Array.IndexOf(results, true);
        (await Store.GetAsync(id, T0 + Ms(1))).ShouldEqualSnapshot(candidates[winner], "the stored session is the winner's");
        (await QueryIdsAsync(new SessionQuery(), T0 + Ms(1))).Should().Equal(id);
    }

    // ───────────────────────────── Get ─────────────────────────────

    [Fact]
    public async Task GetAsync_MissingId_ReturnsNull()
    {
        await CreateLiveAsync(NewSession());

        var loaded = await Store.GetAsync(NewId(), T0);

        loaded.Should().BeNull();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetAsync_JustBeforeExpiry_ReturnsSession(bool absoluteExpiry)
    {
        var (session, expiresAt) = ExpiringSession(absoluteExpiry);
        await CreateLiveAsync(session);

        var loaded = await Store.GetAsync(session.Id, expiresAt - Ms(1));

        loaded.ShouldEqualSnapshot(session);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetAsync_AtExpiry_ReturnsNull(bool absoluteExpiry)
    {
        var (session, expiresAt) = ExpiringSession(absoluteExpiry);
        await CreateLiveAsync(session);

        var loaded = await Store.GetAsync(session.Id, expiresAt);

        loaded.Should().BeNull("a session is live only while ExpiresAt > now");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetAsync_AfterExpiry_ReturnsNull(bool absoluteExpiry)
    {
        var (session, expiresAt) = ExpiringSession(absoluteExpiry);
        await CreateLiveAsync(session);

        var loaded = await Store.GetAsync(session.Id, expiresAt + TimeSpan.FromHours(1));

        loaded.Should().BeNull();
    }

    [Fact]
    public async Task GetAsync_Repeatedly_HasNoSideEffects()
    {
        var session = await CreateLiveAsync(NewSession());

        await Store.GetAsync(session.Id, T0 + TimeSpan.FromMinutes(10));
        await Store.GetAsync(session.Id, T0 + TimeSpan.FromMinutes(19));
        var afterGets = await Store.GetAsync(session.Id, T0 + Ms(1));

        afterGets.ShouldEqualSnapshot(session, "get never slides or bumps the version");
        (await Store.GetAsync(session.Id, session.ExpiresAt)).Should().BeNull("the session still expires at its original time");
    }

    [Fact]
    public async Task GetAsync_SnapshotReadBeforeUpdate_DoesNotChange()
    {
        var session = await CreateLiveAsync(NewRichSession());
        var before = await Store.GetAsync(session.Id, T0);

        await UpdateOrFailAsync(session.Id, new SessionChanges().SetMetadata("tenant", "changed").SetState("cart", Json(99)), T0 + Ms(5));

        before.ShouldEqualSnapshot(session, "a snapshot is immutable");
    }

    // ───────────────────────────── Touch ─────────────────────────────

    [Fact]
    public async Task TouchAsync_Live_ReturnsTrueAndSetsLastAccessedAtToNow()
    {
        var session = await CreateLiveAsync(NewRichSession());
        var now = T0 + TimeSpan.FromMinutes(10);

        var touched = await Store.TouchAsync(session.Id, now);

        touched.Should().BeTrue();
        var loaded = await Store.GetAsync(session.Id, now);
        loaded!.LastAccessedAt.Should().Be(now);
        loaded.CreatedAt.Should().Be(session.CreatedAt);
    }

    [Fact]
    public async Task TouchAsync_Live_LeavesVersionAndDataUnchanged()
    {
        var session = await CreateLiveAsync(NewRichSession());
        var now = T0 + TimeSpan.FromMinutes(10);

        await Store.TouchAsync(session.Id, now);

        (await Store.GetAsync(session.Id, now)).ShouldEqualSnapshot(session with { LastAccessedAt = now }, "a touch only slides");
    }

    [Fact]
    public async Task TouchAsync_Live_MovesExpiryByStoredIdleTimeout()
    {
        var idle = TimeSpan.FromMinutes(17);
        var session = await CreateLiveAsync(NewSession(idleTimeout: idle));
        var now = T0 + TimeSpan.FromMinutes(10);

        await Store.TouchAsync(session.Id, now);

        var loaded = await Store.GetAsync(session.Id, now + idle - Ms(1));
        loaded.Should().NotBeNull("the expiry moved to the touch time plus the stored idle timeout");
        loaded!.ExpiresAt.Should().Be(now + idle);
        (await Store.GetAsync(session.Id, now + idle)).Should().BeNull();
    }

    [Fact]
    public async Task TouchAsync_NearAbsoluteExpiry_IsCappedByAbsoluteExpiry()
    {
        var cap = T0 + TimeSpan.FromMinutes(30);
        var session = await CreateLiveAsync(NewSession(absoluteExpiresAt: cap));
        var now = T0 + TimeSpan.FromMinutes(15);

        (await Store.TouchAsync(session.Id, now)).Should().BeTrue();

        var loaded = await Store.GetAsync(session.Id, cap - Ms(1));
        loaded.Should().NotBeNull();
        loaded!.LastAccessedAt.Should().Be(now);
        loaded.AbsoluteExpiresAt.Should().Be(cap);
        loaded.ExpiresAt.Should().Be(cap);
        (await Store.GetAsync(session.Id, cap)).Should().BeNull("use never extends the absolute expiry");
    }

    [Fact]
    public async Task TouchAsync_EarlierThanLastAccess_DoesNotMoveLastAccessedAtBackwards()
    {
        var session = await CreateLiveAsync(NewSession());
        var later = T0 + TimeSpan.FromMinutes(10);
        (await Store.TouchAsync(session.Id, later)).Should().BeTrue();

        var touched = await Store.TouchAsync(session.Id, T0 + TimeSpan.FromMinutes(5));

        touched.Should().BeTrue("the session is live");
        (await Store.GetAsync(session.Id, later)).ShouldEqualSnapshot(session with { LastAccessedAt = later });
    }

    [Fact]
    public async Task TouchAsync_MissingId_ReturnsFalseAndCreatesNothing()
    {
        var id = NewId();

        var touched = await Store.TouchAsync(id, T0);

        touched.Should().BeFalse();
        (await Store.GetAsync(id, T0)).Should().BeNull();
        (await Store.ExistsAsync(id, T0)).Should().BeFalse();
        (await QueryAllAsync(new SessionQuery(), T0)).Should().BeEmpty();
    }

    [Fact]
    public async Task TouchAsync_AfterDelete_ReturnsFalseAndSessionStaysAbsent()
    {
        var session = await CreateLiveAsync(NewSession(userId: "u"));
        (await Store.DeleteAsync(session.Id, T0 + Ms(1))).Should().BeTrue();

        var touched = await Store.TouchAsync(session.Id, T0 + Ms(2));

        touched.Should().BeFalse();
        (await Store.GetAsync(session.Id, T0 + Ms(2))).Should().BeNull();
        (await Store.GetAsync(session.Id, T0)).Should().BeNull("nothing may be re-created, not even an old-looking record");
        (await QueryAllAsync(new SessionQuery { UserId = "u" }, T0 + Ms(2))).Should().BeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TouchAsync_Expired_ReturnsFalseAndSessionStaysInvisible(bool absoluteExpiry)
    {
        var (session, expiresAt) = ExpiringSession(absoluteExpiry);
        await CreateLiveAsync(session);

        var touched = await Store.TouchAsync(session.Id, expiresAt);

        touched.Should().BeFalse();
        (await Store.GetAsync(session.Id, expiresAt)).Should().BeNull("a touch must not revive an expired session");
        (await Store.ExistsAsync(session.Id, expiresAt + Ms(1))).Should().BeFalse();
    }

    // ───────────────────────────── Update ─────────────────────────────

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
        (await Store.DeleteAsync(session.Id, T0 + Ms(1))).Should().BeTrue();

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

    // ───────────────────────────── Delete ─────────────────────────────

    [Fact]
    public async Task DeleteAsync_Live_ReturnsTrue()
    {
        var session = await CreateLiveAsync(NewSession());

        var deleted = await Store.DeleteAsync(session.Id, T0 + Ms(1));

        deleted.Should().BeTrue();
        (await Store.GetAsync(session.Id, T0 + Ms(1))).Should().BeNull();
    }

    [Fact]
    public async Task DeleteAsync_Twice_SecondReturnsFalse()
    {
        var session = await CreateLiveAsync(NewSession());
        (await Store.DeleteAsync(session.Id, T0 + Ms(1))).Should().BeTrue();

        var deletedAgain = await Store.DeleteAsync(session.Id, T0 + Ms(2));

        deletedAgain.Should().BeFalse("delete is idempotent and reports whether something was removed");
    }

    [Fact]
    public async Task DeleteAsync_MissingId_ReturnsFalse()
    {
        await CreateLiveAsync(NewSession());

        var deleted = await Store.DeleteAsync(NewId(), T0);

        deleted.Should().BeFalse();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DeleteAsync_Expired_ReturnsFalse(bool absoluteExpiry)
    {
        var (session, expiresAt) = ExpiringSession(absoluteExpiry);
        await CreateLiveAsync(session);

        var deleted = await Store.DeleteAsync(session.Id, expiresAt);

        deleted.Should().BeFalse("only a live session counts as removed");
        (await Store.GetAsync(session.Id, expiresAt)).Should().BeNull();
    }

    [Fact]
    public async Task DeleteAsync_Live_MakesSessionInvisibleToEveryOperation()
    {
        var session = await CreateLiveAsync(NewSession(userId: "u", kind: "k"));
        (await Store.DeleteAsync(session.Id, T0 + Ms(1))).Should().BeTrue();
        var now = T0 + Ms(2);

        (await Store.GetAsync(session.Id, now)).Should().BeNull();
        (await Store.ExistsAsync(session.Id, now)).Should().BeFalse();
        (await Store.TouchAsync(session.Id, now)).Should().BeFalse();
        (await Store.UpdateAsync(session.Id, new SessionChanges().SetMetadata("m", "v"), now, DefaultMaxStateBytes)).Status.Should().Be(SessionUpdateStatus.NotFound);
        (await QueryAllAsync(new SessionQuery { UserId = "u" }, now)).Should().BeEmpty();
        (await QueryAllAsync(new SessionQuery { Kind = "k" }, now)).Should().BeEmpty();
        (await QueryAllAsync(new SessionQuery(), now)).Should().BeEmpty();
        (await Store.GetAsync(session.Id, T0)).Should().BeNull("the record is gone, not just hidden");
    }

    [Fact]
    public async Task DeleteAsync_OneSession_LeavesOthersIntact()
    {
        var doomed = await CreateLiveAsync(NewSession(userId: "u"));
        var survivor = await CreateLiveAsync(NewRichSession() with { UserId = "u" });

        await Store.DeleteAsync(doomed.Id, T0 + Ms(1));

        (await Store.GetAsync(survivor.Id, T0 + Ms(1))).ShouldEqualSnapshot(survivor);
        (await QueryIdsAsync(new SessionQuery { UserId = "u" }, T0 + Ms(1))).Should().Equal(survivor.Id);
    }

    [Fact]
    public async Task DeleteAsync_RacingUpdatesAndTouches_SessionStaysDeleted()
    {
        var ids = Enumerable.Range(0, DeleteRaceIterations).Select(static _ => NewId()).ToArray();
        foreach (var id in ids)
        {
            await CreateLiveAsync(NewSession(id, userId: "racer"));
        }

        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (id, _) =>
        {
            await RaceAsync(5, async op =>
            {
                switch (op)
                {
                    case 0:
                        await Store.DeleteAsync(id, T0 + Ms(5));
                        break;
                    case 1 or 2:
                        await Store.UpdateAsync(id, new SessionChanges().SetState("late" + Str(op), Json(op)), T0 + Ms(op), DefaultMaxStateBytes);
                        break;
                    default:
                        await Store.TouchAsync(id, T0 + Ms(op));
                        break;
                }

                return op;
            });
        });

        var now = T0 + Ms(10);
        foreach (var id in ids)
        {
            (await Store.GetAsync(id, now)).Should().BeNull("a touch or update racing a delete never re-creates the session");
            (await Store.GetAsync(id, T0)).Should().BeNull();
            (await Store.ExistsAsync(id, now)).Should().BeFalse();
        }

        (await QueryAllAsync(new SessionQuery { UserId = "racer" }, now)).Should().BeEmpty();
    }

    // ───────────────────────────── Exists ─────────────────────────────

    [Fact]
    public async Task ExistsAsync_Live_ReturnsTrue()
    {
        var session = await CreateLiveAsync(NewSession());

        var exists = await Store.ExistsAsync(session.Id, T0 + Ms(1));

        exists.Should().BeTrue();
    }

    [Fact]
    public async Task ExistsAsync_MissingId_ReturnsFalse()
    {
        await CreateLiveAsync(NewSession());

        var exists = await Store.ExistsAsync(NewId(), T0);

        exists.Should().BeFalse();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ExistsAsync_Expired_ReturnsFalse(bool absoluteExpiry)
    {
        var (session, expiresAt) = ExpiringSession(absoluteExpiry);
        await CreateLiveAsync(session);
        (await Store.ExistsAsync(session.Id, expiresAt - Ms(1))).Should().BeTrue();

        var exists = await Store.ExistsAsync(session.Id, expiresAt);

        exists.Should().BeFalse();
    }

    [Fact]
    public async Task ExistsAsync_Live_DoesNotSlide()
    {
        var session = await CreateLiveAsync(NewSession());

        (await Store.ExistsAsync(session.Id, T0 + TimeSpan.FromMinutes(19))).Should().BeTrue();

        (await Store.GetAsync(session.Id, T0 + Ms(1))).ShouldEqualSnapshot(session, "exists has no side effects");
        (await Store.ExistsAsync(session.Id, session.ExpiresAt)).Should().BeFalse("the expiry did not move");
    }

    // ───────────────────────────── Query ─────────────────────────────

    [Fact]
    public async Task QueryAsync_ByUserId_ReturnsOnlyThatUsersSessions()
    {
        var (alice, _, _) = await CreateQueryFixtureAsync();

        var ids = await QueryIdsAsync(new SessionQuery { UserId = "alice" }, T0 + Ms(1));

        ids.Should().BeEquivalentTo(alice);
    }

    [Fact]
    public async Task QueryAsync_ByKind_ReturnsOnlyThatKind()
    {
        var (alice, bob, anonymous) = await CreateQueryFixtureAsync();
        var expected = alice.Take(2).Concat(bob.Take(1)).Concat(anonymous.Take(1));

        var ids = await QueryIdsAsync(new SessionQuery { Kind = "sse" }, T0 + Ms(1));

        ids.Should().BeEquivalentTo(expected);
    }

    [Fact]
    public async Task QueryAsync_ByUserIdAndKind_ReturnsOnlyMatchesOfBoth()
    {
        var (alice, _, _) = await CreateQueryFixtureAsync();

        var ids = await QueryIdsAsync(new SessionQuery { UserId = "alice", Kind = "sse" }, T0 + Ms(1));

        ids.Should().BeEquivalentTo(alice.Take(2));
    }

    [Fact]
    public async Task QueryAsync_WithoutFilter_ReturnsEveryLiveSession()
    {
        var (alice, bob, anonymous) = await CreateQueryFixtureAsync();

        var ids = await QueryIdsAsync(new SessionQuery(), T0 + Ms(1));

        ids.Should().BeEquivalentTo(alice.Concat(bob).Concat(anonymous));
    }

    [Fact]
    public async Task QueryAsync_SessionsWithoutUserOrKind_AreListedWithNullUserAndKind()
    {
        var anonymous = await CreateLiveAsync(NewSession());
        var owned = await CreateLiveAsync(NewSession(userId: "u", kind: "k"));

        var sessions = await QueryAllAsync(new SessionQuery(), T0 + Ms(1));

        sessions.Should().HaveCount(2);
        sessions.Single(s => s.Id == anonymous.Id).ShouldEqualSnapshot(anonymous);
        sessions.Single(s => s.Id == owned.Id).ShouldEqualSnapshot(owned);
    }

    [Fact]
    public async Task QueryAsync_NoMatch_ReturnsNoSessions()
    {
        await CreateQueryFixtureAsync();

        var sessions = await QueryAllAsync(new SessionQuery { UserId = "nobody" }, T0 + Ms(1));

        sessions.Should().BeEmpty();
    }

    [Fact]
    public async Task QueryAsync_ByUserId_MatchesExactlyNotByPrefixOrCase()
    {
        var exact = await CreateLiveAsync(NewSession(userId: "a"));
        foreach (var near in new[] { "ab", "A", "a ", " a", "a*", "[a]" })
        {
            await CreateLiveAsync(NewSession(userId: near));
        }

        var ids = await QueryIdsAsync(new SessionQuery { UserId = "a" }, T0 + Ms(1));

        ids.Should().Equal(exact.Id);
        (await QueryIdsAsync(new SessionQuery { UserId = "a*" }, T0 + Ms(1))).Should().HaveCount(1, "filters are never patterns");
    }

    [Fact]
    public async Task QueryAsync_ByKind_MatchesExactlyNotByPrefixOrCase()
    {
        var exact = await CreateLiveAsync(NewSession(kind: "chat"));
        foreach (var near in new[] { "chats", "cha", "Chat", "chat ", "c*" })
        {
            await CreateLiveAsync(NewSession(kind: near));
        }

        var ids = await QueryIdsAsync(new SessionQuery { Kind = "chat" }, T0 + Ms(1));

        ids.Should().Equal(exact.Id);
    }

    [Fact]
    public async Task QueryAsync_ExpiredSessionsBeforeSweep_AreExcluded()
    {
        var expiresAt = T0 + TimeSpan.FromMinutes(5);
        var live = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            await CreateLiveAsync(NewSession(userId: "u", kind: "k", idleTimeout: TimeSpan.FromMinutes(5)));
            await CreateLiveAsync(NewSession(userId: "u", kind: "k", absoluteExpiresAt: expiresAt));
            live.Add((await CreateLiveAsync(NewSession(userId: "u", kind: "k"))).Id);
        }

        foreach (var query in new[] { new SessionQuery { UserId = "u" }, new SessionQuery { Kind = "k" }, new SessionQuery { UserId = "u", Kind = "k" }, new SessionQuery() })
        {
            (await QueryIdsAsync(query, expiresAt)).Should().BeEquivalentTo(live, "query {0} lists only live sessions", query);
        }
    }

    [Fact]
    public async Task QueryAsync_SessionTouchedPastItsOriginalExpiry_IsStillListed()
    {
        var session = await CreateLiveAsync(NewSession(userId: "u", kind: "k"));
        var touchedAt = T0 + TimeSpan.FromMinutes(15);
        (await Store.TouchAsync(session.Id, touchedAt)).Should().BeTrue();
        var now = session.ExpiresAt + TimeSpan.FromMinutes(1);

        var byUser = await QueryAllAsync(new SessionQuery { UserId = "u" }, now);
        var byKind = await QueryIdsAsync(new SessionQuery { Kind = "k" }, now);

        byUser.Should().ContainSingle().Which.LastAccessedAt.Should().Be(touchedAt);
        byKind.Should().Equal(session.Id);
    }

    [Fact]
    public async Task QueryAsync_Results_AreFullSnapshotsEqualToGet()
    {
        var first = await CreateLiveAsync(NewRichSession() with { UserId = "u" });
        var second = await CreateLiveAsync(NewRichSession() with { UserId = "u", Kind = "other" });
        var updated = await UpdateOrFailAsync(second.Id, new SessionChanges().SetState("cart", Json(7)), T0 + Ms(3));

        var sessions = await QueryAllAsync(new SessionQuery { UserId = "u" }, T0 + Ms(4));

        sessions.Should().HaveCount(2);
        sessions.Single(s => s.Id == first.Id).ShouldEqualSnapshot(first);
        sessions.Single(s => s.Id == second.Id).ShouldEqualSnapshot(updated);
    }

    [Fact]
    public async Task QueryAsync_PagingByUserWithLimit3Over10_EveryPageWithinLimitAndUnionIsComplete()
    {
        var expected = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            expected.Add((await CreateLiveAsync(NewSession(userId: "pager", kind: "k" + Str(i % 2)))).Id);
            await CreateLiveAsync(NewSession(userId: "other", kind: "k" + Str(i % 2)));
        }

        var sessions = await QueryAllAsync(new SessionQuery { UserId = "pager", Limit = 3 }, T0 + Ms(1));

        sessions.Select(static s => s.Id).Distinct().Should().BeEquivalentTo(expected);
        sessions.Should().OnlyContain(static s => s.UserId == "pager");
    }

    [Fact]
    public async Task QueryAsync_PagingWithoutFilterWithLimit3Over10_EveryPageWithinLimitAndUnionIsComplete()
    {
        var expected = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            expected.Add((await CreateLiveAsync(NewSession(userId: i % 3 == 0 ? null : "user" + Str(i % 3), kind: i % 2 == 0 ? "k" : null))).Id);
        }

        var sessions = await QueryAllAsync(new SessionQuery { Limit = 3 }, T0 + Ms(1));

        sessions.Select(static s => s.Id).Distinct().Should().BeEquivalentTo(expected);
    }

    [Fact]
    public async Task QueryAsync_PagingByKindAndUserWithLimit1_UnionIsComplete()
    {
        var expected = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            expected.Add((await CreateLiveAsync(NewSession(userId: "u", kind: "k"))).Id);
            await CreateLiveAsync(NewSession(userId: "u", kind: "other"));
            await CreateLiveAsync(NewSession(userId: "v", kind: "k"));
        }

        var sessions = await QueryAllAsync(new SessionQuery { UserId = "u", Kind = "k", Limit = 1 }, T0 + Ms(1));

        sessions.Select(static s => s.Id).Distinct().Should().BeEquivalentTo(expected);
    }

    [Fact]
    public async Task QueryAsync_AfterUserIdChange_FindsSessionUnderNewUserOnly()
    {
        var session = await CreateLiveAsync(NewSession(userId: "old-user"));

        await UpdateOrFailAsync(session.Id, new SessionChanges().SetUserId("new-user"), T0 + Ms(1));

        (await QueryIdsAsync(new SessionQuery { UserId = "new-user" }, T0 + Ms(2))).Should().Equal(session.Id);
        (await QueryIdsAsync(new SessionQuery { UserId = "old-user" }, T0 + Ms(2))).Should().BeEmpty();
    }

    [Fact]
    public async Task QueryAsync_AfterUserIdCleared_IsNotFoundUnderOldUser()
    {
        var session = await CreateLiveAsync(NewSession(userId: "old-user"));

        await UpdateOrFailAsync(session.Id, new SessionChanges().SetUserId(null), T0 + Ms(1));

        (await QueryIdsAsync(new SessionQuery { UserId = "old-user" }, T0 + Ms(2))).Should().BeEmpty();
        (await QueryIdsAsync(new SessionQuery(), T0 + Ms(2))).Should().Equal(session.Id);
    }

    [Fact]
    public async Task QueryAsync_AfterKindChange_FindsSessionUnderNewKindOnly()
    {
        var session = await CreateLiveAsync(NewSession(userId: "u", kind: "sse"));

        await UpdateOrFailAsync(session.Id, new SessionChanges().SetKind("chat"), T0 + Ms(1));

        (await QueryIdsAsync(new SessionQuery { Kind = "chat" }, T0 + Ms(2))).Should().Equal(session.Id);
        (await QueryIdsAsync(new SessionQuery { Kind = "sse" }, T0 + Ms(2))).Should().BeEmpty();
        (await QueryIdsAsync(new SessionQuery { UserId = "u", Kind = "sse" }, T0 + Ms(2))).Should().BeEmpty();
    }

    [Fact]
    public async Task QueryAsync_CursorNotProducedByStore_ThrowsArgumentException()
    {
        for (var i = 0; i < 5; i++)
        {
            await CreateLiveAsync(NewSession(userId: "u"));
        }

        var act = async () => await Store.QueryAsync(new SessionQuery { UserId = "u", Limit = 2, Cursor = "%%% not a cursor %%%" }, T0);

        await act.Should().ThrowAsync<ArgumentException>();
    }

    // ───────────────────────────── RemoveExpired ─────────────────────────────

    [Fact]
    public async Task RemoveExpiredAsync_MixOfLiveAndExpired_RemovesOnlyExpiredAndReturnsThem()
    {
        var now = T0 + TimeSpan.FromMinutes(10);
        var expired = new List<Session>
        {
            await CreateLiveAsync(NewSession(userId: "gone-1", kind: "k", idleTimeout: TimeSpan.FromMinutes(5))),
            await CreateLiveAsync(NewSession(userId: "gone-2", idleTimeout: TimeSpan.FromMinutes(9))),
            await CreateLiveAsync(NewSession(userId: "gone-3", absoluteExpiresAt: T0 + TimeSpan.FromMinutes(7))),
        };
        var live = new List<Session>
        {
            await CreateLiveAsync(NewSession(userId: "kept-1", kind: "k")),
            await CreateLiveAsync(NewSession(userId: "kept-2", idleTimeout: TimeSpan.FromMinutes(11))),
            await CreateLiveAsync(NewSession(absoluteExpiresAt: now + Ms(1))),
        };

        var removed = await DrainExpiredAsync(now, 100);

        removed.Select(static s => s.Id).Should().BeEquivalentTo(expired.Select(static s => s.Id));
        foreach (var session in expired)
        {
            var snapshot = removed.Single(s => s.Id == session.Id);
            snapshot.UserId.Should().Be(session.UserId, "expiry events need the owner");
            snapshot.Kind.Should().Be(session.Kind);
        }

        foreach (var session in live)
        {
            (await Store.GetAsync(session.Id, now)).ShouldEqualSnapshot(session, "a live session is never swept");
        }
    }

    [Fact]
    public async Task RemoveExpiredAsync_AtExactExpiry_RemovesSession()
    {
        var session = await CreateLiveAsync(NewSession());

        var removed = await DrainExpiredAsync(session.ExpiresAt, 10);

        removed.Select(static s => s.Id).Should().Equal(session.Id);
        (await Store.GetAsync(session.Id, T0)).Should().BeNull();
    }

    [Fact]
    public async Task RemoveExpiredAsync_JustBeforeExpiry_RemovesNothing()
    {
        var session = await CreateLiveAsync(NewSession());

        var removed = await Store.RemoveExpiredAsync(session.ExpiresAt - Ms(1), 10);

        removed.Should().BeEmpty();
        (await Store.GetAsync(session.Id, session.ExpiresAt - Ms(1))).ShouldEqualSnapshot(session);
    }

    [Fact]
    public async Task RemoveExpiredAsync_EmptyStore_ReturnsEmpty()
    {
        var removed = await Store.RemoveExpiredAsync(T0, 10);

        removed.Should().BeEmpty();
    }

    [Fact]
    public async Task RemoveExpiredAsync_MaxCount_RemovesAtMostMaxCountPerCallAndRepeatedCallsDrainAll()
    {
        var expired = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            expired.Add((await CreateLiveAsync(NewSession(idleTimeout: TimeSpan.FromMinutes(5)))).Id);
        }

        var live = await CreateLiveAsync(NewSession());
        var now = T0 + TimeSpan.FromMinutes(6);

        var first = await Store.RemoveExpiredAsync(now, 3);
        first.Count.Should().BeInRange(1, 3, "a sweep removes at most maxCount sessions");
        var rest = await DrainExpiredAsync(now, 3);

        first.Concat(rest).Select(static s => s.Id).Should().BeEquivalentTo(expired, "repeated calls drain every expired session, each exactly once");
        (await Store.GetAsync(live.Id, now)).Should().NotBeNull();
    }

    [Fact]
    public async Task RemoveExpiredAsync_ExpiredSessions_AreInvisibleBeforeAndGoneAfter()
    {
        var session = await CreateLiveAsync(NewSession(userId: "u"));
        var now = session.ExpiresAt + TimeSpan.FromMinutes(1);
        (await Store.GetAsync(session.Id, now)).Should().BeNull("expired sessions are invisible before any sweep");
        (await Store.ExistsAsync(session.Id, now)).Should().BeFalse();
        (await QueryAllAsync(new SessionQuery { UserId = "u" }, now)).Should().BeEmpty();

        await DrainExpiredAsync(now, 10);

        (await Store.GetAsync(session.Id, T0)).Should().BeNull("the sweep removed the record, not just hid it");
        (await Store.ExistsAsync(session.Id, T0)).Should().BeFalse();
        (await QueryAllAsync(new SessionQuery { UserId = "u" }, T0)).Should().BeEmpty();
    }

    [Fact]
    public async Task RemoveExpiredAsync_SessionTouchedBeforeSweep_IsKept()
    {
        var session = await CreateLiveAsync(NewSession());
        var touchedAt = T0 + TimeSpan.FromMinutes(19);
        (await Store.TouchAsync(session.Id, touchedAt)).Should().BeTrue();
        var now = session.ExpiresAt + TimeSpan.FromMinutes(1);

        var removed = await DrainExpiredAsync(now, 10);

        removed.Should().BeEmpty();
        (await Store.GetAsync(session.Id, now)).ShouldEqualSnapshot(session with { LastAccessedAt = touchedAt });
    }

    [Fact]
    public async Task RemoveExpiredAsync_SessionUpdatedBeforeSweep_IsKept()
    {
        var session = await CreateLiveAsync(NewSession());
        var updated = await UpdateOrFailAsync(session.Id, new SessionChanges().SetMetadata("m", "v"), T0 + TimeSpan.FromMinutes(19));
        var now = session.ExpiresAt + TimeSpan.FromMinutes(1);

        var removed = await DrainExpiredAsync(now, 10);

        removed.Should().BeEmpty();
        (await Store.GetAsync(session.Id, now)).ShouldEqualSnapshot(updated);
    }

    [Fact]
    public async Task RemoveExpiredAsync_RacingTouches_NeverDeletesATouchedSession()
    {
        var expiresAt = T0 + Idle;
        var before = expiresAt - Ms(1);
        var after = expiresAt + Ms(1);

        for (var round = 0; round < SweepRaceRounds; round++)
        {
            var ids = await CreateManyAsync(SweepRaceSessions, "touch-round-" + Str(round));

            var (touched, removed) = await RaceSweepAsync(after, ids.Length, i => Store.TouchAsync(ids[i], before).AsTask());

            await AssertSweepRaceOutcomeAsync(ids, touched, removed, before, after, expectedVersion: 1);
        }
    }

    [Fact]
    public async Task RemoveExpiredAsync_RacingUpdates_NeverDeletesAnUpdatedSession()
    {
        var expiresAt = T0 + Idle;
        var before = expiresAt - Ms(1);
        var after = expiresAt + Ms(1);

        for (var round = 0; round < SweepRaceRounds; round++)
        {
            var ids = await CreateManyAsync(SweepRaceSessions, "update-round-" + Str(round));

            var (updated, removed) = await RaceSweepAsync(after, ids.Length, async i =>
            {
                var result = await Store.UpdateAsync(ids[i], new SessionChanges().SetState("u", Json(i)), before, DefaultMaxStateBytes);
                result.Status.Should().BeOneOf(SessionUpdateStatus.Updated, SessionUpdateStatus.NotFound);
                return result.IsUpdated;
            });

            await AssertSweepRaceOutcomeAsync(ids, updated, removed, before, after, expectedVersion: 2);
            for (var i = 0; i < ids.Length; i++)
            {
                if (updated[i])
                {
                    (await Store.GetAsync(ids[i], after))!.StateText("u").Should().Be(Str(i));
                }
            }
        }
    }

    // ───────────────────────────── Odd ids and hostile values ─────────────────────────────

    [Theory]
    [MemberData(nameof(OddIdCases), MemberType = typeof(SessionStoreConformanceTests))]
    public async Task OddId_CreateGetUpdateTouchDelete_RoundTripsAndLeavesNeighboursAlone(string idCase)
    {
        var id = _oddIds[idCase];
        var neighbour = await CreateLiveAsync(NewSession(userId: "odd-owner"));
        var session = NewRichSession() with { Id = id, UserId = "odd-owner" };

        (await Store.CreateAsync(session, T0)).Should().BeTrue();
        (await Store.GetAsync(id, T0 + Ms(1))).ShouldEqualSnapshot(session);
        (await Store.ExistsAsync(id, T0 + Ms(1))).Should().BeTrue();
        var updated = await UpdateOrFailAsync(id, new SessionChanges().SetState("odd", Json(idCase)), T0 + Ms(2));
        updated.Id.Should().Be(id);
        (await Store.TouchAsync(id, T0 + Ms(3))).Should().BeTrue();
        (await Store.GetAsync(id, T0 + Ms(3))).ShouldEqualSnapshot(updated with { LastAccessedAt = T0 + Ms(3) });
        (await QueryIdsAsync(new SessionQuery { UserId = "odd-owner" }, T0 + Ms(3))).Should().BeEquivalentTo(new[] { id, neighbour.Id });
        (await Store.DeleteAsync(id, T0 + Ms(4))).Should().BeTrue();

        (await Store.GetAsync(id, T0 + Ms(4))).Should().BeNull();
        (await Store.GetAsync(neighbour.Id, T0 + Ms(4))).ShouldEqualSnapshot(neighbour, "deleting an odd id touches no other session");
        (await QueryIdsAsync(new SessionQuery { UserId = "odd-owner" }, T0 + Ms(4))).Should().Equal(neighbour.Id);
    }

    [Fact]
    public async Task OddIds_DifferingOnlyByCaseOrTrailingSpace_AreDistinctSessions()
    {
        var ids = new[] { "Session-Id", "session-id", "Session-Id ", "Session-Id\t" };
        foreach (var id in ids)
        {
            (await Store.CreateAsync(NewSession(id, userId: "owner-of:" + id), T0)).Should().BeTrue("ids compare ordinally, so {0} is new", JsonSerializer.Serialize(id));
        }

        (await Store.DeleteAsync("Session-Id", T0 + Ms(1))).Should().BeTrue();

        (await Store.GetAsync("Session-Id", T0 + Ms(1))).Should().BeNull();
        foreach (var id in ids.Skip(1))
        {
            (await Store.GetAsync(id, T0 + Ms(1)))!.UserId.Should().Be("owner-of:" + id);
        }
    }

    [Fact]
    public async Task HostileStateValue_ThroughCreateAndUpdate_RoundTripsExactly()
    {
        var hostile = HostileText();
        var element = Json(hostile);
        var session = await CreateLiveAsync(NewSession() with { State = new Dictionary<string, JsonElement> { ["created"] = element } });

        await UpdateOrFailAsync(session.Id, new SessionChanges().SetState("updated", element).SetState("nested", Json(new { text = hostile, list = new[] { hostile } })), T0 + Ms(1));

        var loaded = await GetLiveAsync(session.Id, T0 + Ms(1));
        foreach (var key in new[] { "created", "updated" })
        {
            loaded.StateText(key).Should().Be(element.GetRawText());
            loaded.State[key].GetString().Should().Be(hostile);
        }

        loaded.State["nested"].GetProperty("text").GetString().Should().Be(hostile);
        loaded.State["nested"].GetProperty("list")[0].GetString().Should().Be(hostile);
    }

    [Fact]
    public async Task HostileMetadataAndBinding_ThroughCreateAndUpdate_RoundTripExactly()
    {
        var hostile = HostileText();
        var hostileKey = "k:{x}*?[ ]é😀\"\\";
        var session = await CreateLiveAsync(NewSession(userId: "u:{1}*", kind: "k\"ind") with
        {
            Metadata = new Dictionary<string, string> { [hostileKey] = hostile, ["plain"] = string.Empty },
            Binding = new Dictionary<string, string> { [hostileKey] = hostile },
        });
        (await Store.GetAsync(session.Id, T0)).ShouldEqualSnapshot(session);

        var updated = await UpdateOrFailAsync(session.Id, new SessionChanges().SetMetadata(hostileKey + "2", hostile).SetBinding(hostileKey + "2", hostile), T0 + Ms(1));

        (await Store.GetAsync(session.Id, T0 + Ms(1))).ShouldEqualSnapshot(updated);
        updated.Metadata[hostileKey + "2"].Should().Be(hostile);
        updated.Binding[hostileKey + "2"].Should().Be(hostile);
    }

    [Fact]
    public async Task LargeStateValue_ThroughCreateAndUpdate_RoundTripsExactly()
    {
        var large = string.Concat(Enumerable.Repeat("0123456789abcdef-é-😀-", 12_000)); // ~280 KB of UTF-8
        var session = await CreateLiveAsync(NewSession() with { State = new Dictionary<string, JsonElement> { ["big"] = Json(large) } });

        await UpdateOrFailAsync(session.Id, new SessionChanges().SetState("big2", Json(large)), T0 + Ms(1));

        var loaded = await Store.GetAsync(session.Id, T0 + Ms(1));
        loaded!.State["big"].GetString().Should().Be(large);
        loaded.State["big2"].GetString().Should().Be(large);
    }

    [Fact]
    public async Task StateValuesOfEveryJsonKind_RoundTripByRawText()
    {
        var values = new Dictionary<string, JsonElement>
        {
            ["null"] = Json<object?>(null),
            ["true"] = Json(true),
            ["false"] = Json(false),
            ["int"] = Json(-42),
            ["beyond-double"] = Json(9007199254740993L),
            ["decimal"] = Json(0.1m),
            ["huge"] = Json(1e300),
            ["empty-string"] = Json(string.Empty),
            ["empty-object"] = Json(new { }),
            ["empty-array"] = Json(Array.Empty<int>()),
            ["nested"] = Json(new { a = new object?[] { 1, "two", null, new { b = true } }, c = new { d = new { e = "f" } } }),
        };
        var session = await CreateLiveAsync(NewSession() with { State = values });

        var changes = new SessionChanges();
        foreach (var (key, value) in values)
        {
            changes.SetState("u-" + key, value);
        }

        var updated = await UpdateOrFailAsync(session.Id, changes, T0 + Ms(1));

        var loaded = await GetLiveAsync(session.Id, T0 + Ms(1));
        loaded.ShouldEqualSnapshot(updated);
        foreach (var (key, value) in values)
        {
            loaded.StateText(key).Should().Be(value.GetRawText(), "state {0} keeps its exact JSON", key);
            loaded.StateText("u-" + key).Should().Be(value.GetRawText(), "state u-{0} keeps its exact JSON", key);
        }
    }

    // ───────────────────────────── Helpers ─────────────────────────────

    /// <summary>Creates a random session id shaped like the manager's: 32 random bytes, base64url, 43 chars.</summary>
    /// <returns>The id.</returns>
    protected static string NewId() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>Returns a whole number of milliseconds as a <see cref="TimeSpan"/>.</summary>
    /// <param name="milliseconds">The milliseconds.</param>
    /// <returns>The span.</returns>
    protected static TimeSpan Ms(int milliseconds) => TimeSpan.FromMilliseconds(milliseconds);

    /// <summary>Builds a minimal session (version 1) created and last accessed at <paramref name="at"/> (default <see cref="T0"/>).</summary>
    /// <param name="id">The id; random when <see langword="null"/>.</param>
    /// <param name="userId">The owner.</param>
    /// <param name="kind">The kind.</param>
    /// <param name="idleTimeout">The idle timeout; <see cref="Idle"/> when <see langword="null"/>.</param>
    /// <param name="absoluteExpiresAt">The absolute expiry.</param>
    /// <param name="at">The creation and last-access instant.</param>
    /// <returns>The session.</returns>
    protected Session NewSession(
        string? id = null,
        string? userId = null,
        string? kind = null,
        TimeSpan? idleTimeout = null,
        DateTimeOffset? absoluteExpiresAt = null,
        DateTimeOffset? at = null) => new()
        {
            Id = id ?? NewId(),
            UserId = userId,
            Kind = kind,
            CreatedAt = at ?? T0,
            LastAccessedAt = at ?? T0,
            IdleTimeout = idleTimeout ?? Idle,
            AbsoluteExpiresAt = absoluteExpiresAt,
            Version = 1,
        };

    /// <summary>Builds a session with every field set to a distinct, non-default value.</summary>
    /// <returns>The session.</returns>
    protected Session NewRichSession() => new()
    {
        Id = NewId(),
        UserId = "user-" + NewId()[..8],
        Kind = "streamable",
        CreatedAt = T0 - TimeSpan.FromSeconds(90),
        LastAccessedAt = T0 - TimeSpan.FromSeconds(30),
        IdleTimeout = TimeSpan.FromMinutes(17),
        AbsoluteExpiresAt = T0 + TimeSpan.FromHours(2) + Ms(123),
        Version = 1,
        Metadata = new Dictionary<string, string> { ["tenant"] = "t-1", ["region"] = "eu-west" },
        State = new Dictionary<string, JsonElement>
        {
            ["cart"] = Json(new { items = new[] { "x" }, total = 12.5 }),
            ["flag"] = Json(true),
            ["count"] = Json(3),
            ["name"] = Json("Zoë"),
        },
        Binding = new Dictionary<string, string> { ["salt"] = "c2FsdHNhbHRzYWx0c2FsdA", ["hash"] = "aGFzaA" },
    };

    /// <summary>Creates a session, asserting that the store accepted it.</summary>
    /// <param name="session">The session.</param>
    /// <returns>The session.</returns>
    protected async Task<Session> CreateLiveAsync(Session session)
    {
        ArgumentNullException.ThrowIfNull(session);
        (await Store.CreateAsync(session, session.LastAccessedAt > T0 ? session.LastAccessedAt : T0)).Should().BeTrue("the arrange step creates a new session");
        return session;
    }

    /// <summary>Gets a session, asserting that it is live.</summary>
    /// <param name="id">The session id.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The snapshot.</returns>
    protected async Task<Session> GetLiveAsync(string id, DateTimeOffset now)
    {
        var session = await Store.GetAsync(id, now);
        session.Should().NotBeNull("the session should be live at {0:O}", now);
        return session!;
    }

    /// <summary>Applies a change set, asserting that it was applied.</summary>
    /// <param name="id">The session id.</param>
    /// <param name="changes">The change set.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The new snapshot.</returns>
    protected async Task<Session> UpdateOrFailAsync(string id, SessionChanges changes, DateTimeOffset now)
    {
        var result = await Store.UpdateAsync(id, changes, now, DefaultMaxStateBytes);
        result.Status.Should().Be(SessionUpdateStatus.Updated);
        result.Session.Should().NotBeNull();
        return result.Session!;
    }

    /// <summary>
    /// Reads every page of a query. A page never holds more than the limit, but may hold fewer (even none) while
    /// <see cref="SessionPage.NextCursor"/> is non-null (SCAN semantics); the loop is bounded.
    /// </summary>
    /// <param name="query">The query; its cursor is replaced page by page.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The sessions of every page, in order (a store with SCAN semantics may repeat one).</returns>
    protected async Task<List<Session>> QueryAllAsync(SessionQuery query, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(query);
        var sessions = new List<Session>();
        string? cursor = null;
        for (var page = 0; page < MaxPages; page++)
        {
            var result = await Store.QueryAsync(query with { Cursor = cursor }, now);
            result.Sessions.Count.Should().BeLessThanOrEqualTo(query.Limit, "a page never holds more than the limit");
            foreach (var session in result.Sessions)
            {
                session.IsLiveAt(now).Should().BeTrue("a query lists only live sessions");
                if (query.UserId is not null)
                {
                    session.UserId.Should().Be(query.UserId);
                }

                if (query.Kind is not null)
                {
                    session.Kind.Should().Be(query.Kind);
                }
            }

            sessions.AddRange(result.Sessions);
            cursor = result.NextCursor;
            if (cursor is null)
            {
                return sessions;
            }
        }

        throw new Xunit.Sdk.XunitException($"The query did not reach a null NextCursor within {MaxPages} pages.");
    }

    /// <summary>Reads every page of a query and returns the distinct ids.</summary>
    /// <param name="query">The query.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The distinct ids, in first-seen order.</returns>
    protected async Task<List<string>> QueryIdsAsync(SessionQuery query, DateTimeOffset now) =>
        [.. (await QueryAllAsync(query, now)).Select(static s => s.Id).Distinct(StringComparer.Ordinal)];

    /// <summary>Calls <see cref="ISessionStore.RemoveExpiredAsync"/> until it returns nothing (bounded).</summary>
    /// <param name="now">The current time.</param>
    /// <param name="maxCount">The batch size.</param>
    /// <returns>Every removed session.</returns>
    protected async Task<List<Session>> DrainExpiredAsync(DateTimeOffset now, int maxCount)
    {
        var removed = new List<Session>();
        for (var call = 0; call < MaxSweepCalls; call++)
        {
            var batch = await Store.RemoveExpiredAsync(now, maxCount);
            batch.Count.Should().BeLessThanOrEqualTo(maxCount, "a sweep removes at most maxCount sessions");
            if (batch.Count == 0)
            {
                return removed;
            }

            removed.AddRange(batch);
        }

        throw new Xunit.Sdk.XunitException($"RemoveExpiredAsync still returned sessions after {MaxSweepCalls} calls.");
    }

    /// <summary>Runs <paramref name="count"/> operations at once, released together from thread-pool threads.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="count">How many operations.</param>
    /// <param name="operation">The operation, given its index.</param>
    /// <returns>The results, by index.</returns>
    protected static async Task<T[]> RaceAsync<T>(int count, Func<int, Task<T>> operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = new Task<T>[count];
        for (var i = 0; i < count; i++)
        {
            var index = i;
            tasks[i] = Task.Run(async () =>
            {
                await start.Task;
                return await operation(index);
            });
        }

        start.SetResult();
        return await Task.WhenAll(tasks);
    }

    private (Session Session, DateTimeOffset ExpiresAt) ExpiringSession(bool absoluteExpiry, string? userId = null)
    {
        var session = absoluteExpiry
            ? NewSession(userId: userId, absoluteExpiresAt: T0 + TimeSpan.FromMinutes(5) + Ms(7))
            : NewSession(userId: userId, idleTimeout: TimeSpan.FromMinutes(5));
        return (session, session.ExpiresAt);
    }

    private async Task<(List<string> Alice, List<string> Bob, List<string> Anonymous)> CreateQueryFixtureAsync()
    {
        var alice = new List<string>();
        var bob = new List<string>();
        var anonymous = new List<string>();
        foreach (var kind in new string?[] { "sse", "sse", "chat", null })
        {
            alice.Add((await CreateLiveAsync(NewSession(userId: "alice", kind: kind))).Id);
        }

        foreach (var kind in new string?[] { "sse", "chat" })
        {
            bob.Add((await CreateLiveAsync(NewSession(userId: "bob", kind: kind))).Id);
        }

        foreach (var kind in new string?[] { "sse", null })
        {
            anonymous.Add((await CreateLiveAsync(NewSession(kind: kind))).Id);
        }

        return (alice, bob, anonymous);
    }

    private async Task<string[]> CreateManyAsync(int count, string userId)
    {
        var ids = new string[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = (await CreateLiveAsync(NewSession(userId: userId))).Id;
        }

        return ids;
    }

    // Runs one write per session (touch or update, at a time before expiry) while a sweeper keeps calling
    // RemoveExpiredAsync (at a time after expiry), both released together; then drains what is left.
    private async Task<(bool[] Wrote, List<Session> Removed)> RaceSweepAsync(DateTimeOffset sweepAt, int count, Func<int, Task<bool>> write)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writesDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var removed = new ConcurrentQueue<Session>();
        var sweeper = Task.Run(async () =>
        {
            await start.Task;
            while (!writesDone.Task.IsCompleted)
            {
                foreach (var session in await Store.RemoveExpiredAsync(sweepAt, 16))
                {
                    removed.Enqueue(session);
                }
            }
        });
        var writers = new Task<bool>[count];
        for (var i = 0; i < count; i++)
        {
            var index = i;
            writers[i] = Task.Run(async () =>
            {
                await start.Task;
                return await write(index);
            });
        }

        start.SetResult();
        bool[] wrote;
        try
        {
            wrote = await Task.WhenAll(writers);
        }
        finally
        {
            writesDone.SetResult();
            await sweeper;
        }

        var all = removed.ToList();
        all.AddRange(await DrainExpiredAsync(sweepAt, 16));
        return (wrote, all);
    }

    private async Task AssertSweepRaceOutcomeAsync(string[] ids, bool[] wrote, List<Session> removed, DateTimeOffset writtenAt, DateTimeOffset sweptAt, long expectedVersion)
    {
        removed.Select(static s => s.Id).Should().OnlyHaveUniqueItems("a session is removed at most once");
        var removedIds = removed.Select(static s => s.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var session in removed)
        {
            session.LastAccessedAt.Should().Be(T0, "only the original, expired record may be swept, never a slid one");
            session.IsLiveAt(sweptAt).Should().BeFalse();
        }

        for (var i = 0; i < ids.Length; i++)
        {
            if (wrote[i])
            {
                var survivor = await Store.GetAsync(ids[i], sweptAt);
                survivor.Should().NotBeNull("session {0} was written at {1:O}, before the sweep's now, so the sweep must keep it", i, writtenAt);
                survivor!.LastAccessedAt.Should().Be(writtenAt);
                survivor.Version.Should().Be(expectedVersion);
                removedIds.Should().NotContain(ids[i]);
            }
            else
            {
                (await Store.GetAsync(ids[i], T0)).Should().BeNull("session {0}'s write found it absent, so the sweep removed it", i);
                removedIds.Should().Contain(ids[i], "a session that vanished was returned by the sweep that removed it");
            }
        }
    }

    private static string HostileText() =>
        "nul:\0 quote:\" apostrophe:' backslash:\\ slash:/ newline:\n cr:\r tab:\t ctl:\u001f\u007f " +
        "html:<script>&amp;</script> unicode:é中文 emoji:😀👍🏽 rtl:\u202e bom:\ufeff ls:\u2028 json:{\"a\":[1]} lua:%s]]";

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);
}
