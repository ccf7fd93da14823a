using static SessionKit.Tests.SessionAssertions;

namespace SessionKit.Tests;

public abstract partial class SessionStoreConformanceTests
{
    [Fact]
    public async Task DeleteAsync_Live_ReturnsTheRemovedRecord()
    {
        var session = await CreateLiveAsync(NewSession(userId: "u", kind: "k"));

        var deleted = await Store.DeleteAsync(session.Id, T0 + Ms(1));

        deleted.Should().NotBeNull();
        deleted!.Id.Should().Be(session.Id);
        deleted.UserId.Should().Be("u");
        deleted.Version.Should().Be(session.Version);
        (await Store.GetAsync(session.Id, T0 + Ms(1))).Should().BeNull();
    }

    [Fact]
    public async Task DeleteAsync_Twice_SecondReturnsNull()
    {
        var session = await CreateLiveAsync(NewSession());
        (await Store.DeleteAsync(session.Id, T0 + Ms(1))).Should().NotBeNull();

        var deletedAgain = await Store.DeleteAsync(session.Id, T0 + Ms(2));

        deletedAgain.Should().BeNull("delete is idempotent and reports what it removed");
    }

    [Fact]
    public async Task DeleteAsync_MissingId_ReturnsNull()
    {
        await CreateLiveAsync(NewSession());

        var deleted = await Store.DeleteAsync(NewId(), T0);

        deleted.Should().BeNull();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DeleteAsync_Expired_ReturnsNull(bool absoluteExpiry)
    {
        var (session, expiresAt) = ExpiringSession(absoluteExpiry);
        await CreateLiveAsync(session);

        var deleted = await Store.DeleteAsync(session.Id, expiresAt);

        deleted.Should().BeNull("only a live session counts as removed");
        (await Store.GetAsync(session.Id, expiresAt)).Should().BeNull();
    }

    [Fact]
    public async Task DeleteAsync_Live_MakesSessionInvisibleToEveryOperation()
    {
        var session = await CreateLiveAsync(NewSession(userId: "u", kind: "k"));
        (await Store.DeleteAsync(session.Id, T0 + Ms(1))).Should().NotBeNull();
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
}
