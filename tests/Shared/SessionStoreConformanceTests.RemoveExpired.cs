using System.Collections.Concurrent;
using static SessionKit.Tests.SessionAssertions;

namespace SessionKit.Tests;

public abstract partial class SessionStoreConformanceTests
{
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
}
