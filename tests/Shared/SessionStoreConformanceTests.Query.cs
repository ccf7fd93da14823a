using static SessionKit.Tests.SessionAssertions;

namespace SessionKit.Tests;

public abstract partial class SessionStoreConformanceTests
{
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
}
