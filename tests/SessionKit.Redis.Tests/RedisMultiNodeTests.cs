using System.Text.Json;
using Microsoft.Extensions.Options;
using SessionKit.Redis;

namespace SessionKit.Tests;

/// <summary>
/// Two <see cref="SessionManager"/>s, each with its own store and multiplexer (two nodes), on one Redis: each sees the
/// other's creates, updates, slides and deletes at once.
/// </summary>
public sealed class RedisMultiNodeTests(RedisTestServer redis) : IClassFixture<RedisTestServer>, IAsyncLifetime
{
    private readonly string _prefix = RedisTestServer.NewPrefix();
    private RedisSessionStore _storeA = null!;
    private RedisSessionStore _storeB = null!;
    private SessionManager _nodeA = null!;
    private SessionManager _nodeB = null!;

    public Task InitializeAsync()
    {
        _storeA = NewNodeStore();
        _storeB = NewNodeStore();
        _nodeA = NewManager(_storeA);
        _nodeB = NewManager(_storeB);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _nodeA.DisposeAsync();
        await _nodeB.DisposeAsync();
        await _storeA.DisposeAsync();
        await _storeB.DisposeAsync();
        await redis.DeletePrefixAsync(_prefix);
    }

    [Fact]
    public async Task CreateOnA_IsFoundOnB()
    {
        var session = await _nodeA.CreateAsync(new SessionCreateOptions { UserId = "alice", Kind = "chat" }.WithState("cart", new[] { 1, 2 }));

        var seen = await _nodeB.GetAsync(session.Id);

        seen.IsFound.Should().BeTrue();
        seen.Session!.UserId.Should().Be("alice");
        seen.Session.State["cart"].GetRawText().Should().Be("[1,2]");
    }

    [Fact]
    public async Task UpdateOnA_IsSeenOnBWithNewVersion()
    {
        var session = await _nodeA.CreateAsync();
        (await _nodeB.GetAsync(session.Id)).Session!.Version.Should().Be(1);

        var updated = await _nodeA.UpdateAsync(session.Id, new SessionChanges().SetMetadata("step", "2"));

        var seen = (await _nodeB.GetAsync(session.Id)).Session!;
        seen.Version.Should().Be(updated.Session!.Version).And.Be(2);
        seen.Metadata["step"].Should().Be("2");
    }

    [Fact]
    public async Task DeleteOnA_IsNotFoundOnB_AndBCannotResurrectIt()
    {
        var session = await _nodeA.CreateAsync(new SessionCreateOptions { UserId = "bob" });
        (await _nodeB.GetAsync(session.Id)).IsFound.Should().BeTrue();

        (await _nodeA.DeleteAsync(session.Id)).Should().BeTrue();

        (await _nodeB.GetAsync(session.Id)).IsFound.Should().BeFalse();
        (await _nodeB.UpdateAsync(session.Id, new SessionChanges().SetMetadata("late", "write"))).Status.Should().Be(SessionUpdateStatus.NotFound);
        (await _nodeB.QueryAsync(new SessionQuery { UserId = "bob" })).Sessions.Should().BeEmpty();
    }

    [Fact]
    public async Task ParallelUpdatesOfDisjointKeysFromBothNodes_LoseNothing()
    {
        var session = await _nodeA.CreateAsync();

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            var node = i % 2 == 0 ? _nodeA : _nodeB;
            (await node.UpdateAsync(session.Id, new SessionChanges().SetState("k" + i, i))).IsUpdated.Should().BeTrue();
        })));

        var merged = (await _nodeA.GetAsync(session.Id)).Session!;
        merged.State.Should().HaveCount(40);
        merged.Version.Should().Be(41);
        Enumerable.Range(0, 40).Should().OnlyContain(i => merged.State["k" + i].GetInt32() == i);
    }

    [Fact]
    public async Task CompareAndSetFromBothNodesOnSameVersion_ExactlyOneWins()
    {
        var session = await _nodeA.CreateAsync();

        var results = await Task.WhenAll(
            _nodeA.UpdateAsync(session.Id, new SessionChanges { ExpectedVersion = 1 }.SetMetadata("winner", "A")).AsTask(),
            _nodeB.UpdateAsync(session.Id, new SessionChanges { ExpectedVersion = 1 }.SetMetadata("winner", "B")).AsTask());

        results.Count(static r => r.IsUpdated).Should().Be(1);
        results.Count(static r => r.Status == SessionUpdateStatus.Conflict).Should().Be(1);
    }

    [Fact]
    public async Task DeleteUserSessionsOnB_RemovesSessionsCreatedOnA()
    {
        var user = "carol-" + Guid.NewGuid().ToString("N")[..6];
        var created = new List<Session>();
        for (var i = 0; i < 5; i++)
        {
            created.Add(await (i % 2 == 0 ? _nodeA : _nodeB).CreateAsync(new SessionCreateOptions { UserId = user }));
        }

        var removed = await _nodeB.DeleteUserSessionsAsync(user, exceptSessionId: created[0].Id);

        removed.Should().Be(4);
        (await _nodeA.GetAsync(created[0].Id)).IsFound.Should().BeTrue();
        foreach (var session in created.Skip(1))
        {
            (await _nodeA.GetAsync(session.Id)).IsFound.Should().BeFalse();
        }
    }

    [Fact]
    public async Task MaxSessionsPerUser_EvictOldest_HoldsAcrossNodes()
    {
        var storeA = NewNodeStore();
        var storeB = NewNodeStore();
        await using var a = NewManager(storeA, o => o.MaxSessionsPerUser = 2);
        await using var b = NewManager(storeB, o => o.MaxSessionsPerUser = 2);
        var user = "dave-" + Guid.NewGuid().ToString("N")[..6];

        var first = await a.CreateAsync(new SessionCreateOptions { UserId = user });
        await Task.Delay(5);
        var second = await b.CreateAsync(new SessionCreateOptions { UserId = user });
        await Task.Delay(5);
        var third = await a.CreateAsync(new SessionCreateOptions { UserId = user });

        var listed = (await b.QueryAsync(new SessionQuery { UserId = user })).Sessions.Select(static s => s.Id).ToList();
        listed.Should().BeEquivalentTo([second.Id, third.Id]);
        (await b.GetAsync(first.Id)).IsFound.Should().BeFalse();
        await storeA.DisposeAsync();
        await storeB.DisposeAsync();
    }

    [Fact]
    public async Task SlideOnB_MovesExpirySeenByA()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        var storeA = NewNodeStore();
        var storeB = NewNodeStore();
        await using var a = NewManager(storeA, clock: clock);
        await using var b = NewManager(storeB, clock: clock);
        var session = await a.CreateAsync();

        clock.Advance(TimeSpan.FromMinutes(15));
        (await b.GetAsync(session.Id)).IsFound.Should().BeTrue();
        clock.Advance(TimeSpan.FromMinutes(15)); // 30 minutes after creation: alive only because B slid it

        var seen = await a.GetAsync(session.Id, SessionAccessContext.NoSlide);
        seen.IsFound.Should().BeTrue();
        seen.Session!.LastAccessedAt.Should().Be(session.CreatedAt + TimeSpan.FromMinutes(15));
        await storeA.DisposeAsync();
        await storeB.DisposeAsync();
    }

    private RedisSessionStore NewNodeStore() => new(Options.Create(new RedisSessionStoreOptions
    {
        Configuration = redis.Configuration,
        KeyPrefix = _prefix,
    }));

    private static SessionManager NewManager(RedisSessionStore store, Action<SessionKitOptions>? configure = null, TimeProvider? clock = null)
    {
        var options = new SessionKitOptions { EnableBackgroundCleanup = false };
        configure?.Invoke(options);
        return new SessionManager(store, Options.Create(options), clock, loggerFactory: null);
    }
}
