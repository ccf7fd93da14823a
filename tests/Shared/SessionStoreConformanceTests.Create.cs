using System.Text.Json;
using static SessionKit.Tests.SessionAssertions;

namespace SessionKit.Tests;

public abstract partial class SessionStoreConformanceTests
{
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
        (await Store.DeleteAsync(session.Id, T0)).Should().NotBeNull();
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
}
