using System.Diagnostics;
using SessionKit.Caching;
using SessionKit.Redis;
using Xunit.Abstractions;

namespace SessionKit.Tests.Caching;

/// <summary>Two and three managers, each with its own connections, sharing one Redis through the store and the backplane.</summary>
public sealed class RedisBackplaneTests(RedisTestServer redis) : IClassFixture<RedisTestServer>, IAsyncLifetime
{
    private readonly string _prefix = RedisTestServer.NewPrefix();
    private readonly List<RedisNode> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        await redis.DeletePrefixAsync(_prefix);
    }

    private async Task<RedisNode> NodeAsync()
    {
        var node = await RedisNode.StartAsync(redis.Configuration, _prefix);
        _nodes.Add(node);
        return node;
    }

    [Fact]
    public async Task DeleteOnA_NextGetOnB_IsNotFound()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var session = await a.Manager.CreateAsync();
        (await b.Manager.GetAsync(session.Id)).IsFound.Should().BeTrue();
        (await b.Manager.GetAsync(session.Id)).IsFound.Should().BeTrue();
        b.Counting.Calls("get").Should().Be(1, "the second read is an L1 hit");
        var heard = b.NextChangeAsync(session.Id);

        await a.Manager.DeleteAsync(session.Id);
        (await heard).Action.Should().Be(SessionBackplaneAction.Deleted);

        (await b.Manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
    }

    [Fact]
    public async Task DeleteOnA_ThreeNodes_NotFoundOnBAndC()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var c = await NodeAsync();
        var session = await a.Manager.CreateAsync();
        await b.Manager.GetAsync(session.Id);
        await c.Manager.GetAsync(session.Id);
        var heardB = b.NextChangeAsync(session.Id);
        var heardC = c.NextChangeAsync(session.Id);

        await a.Manager.DeleteAsync(session.Id);
        await Task.WhenAll(heardB, heardC);

        (await b.Manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
        (await c.Manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
    }

    [Fact]
    public async Task UpdateOnA_IsSeenByB()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var session = await a.Manager.CreateAsync();
        await b.Manager.GetAsync(session.Id);
        var heard = b.NextChangeAsync(session.Id);

        await a.Manager.UpdateAsync(session.Id, new SessionChanges().SetMetadata("role", "admin"));
        (await heard).Version.Should().Be(2);

        var seen = await b.Manager.GetAsync(session.Id);
        seen.Session!.Metadata.Should().ContainKey("role");
    }

    [Fact]
    public async Task RotationOnA_IsSeenByB()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var session = await a.Manager.CreateAsync();
        await b.Manager.GetAsync(session.Id);
        var heard = b.NextChangeAsync(session.Id);

        var rotated = await a.Manager.RotateAsync(session.Id);
        (await heard).Action.Should().Be(SessionBackplaneAction.Rotated);

        var seen = await b.Manager.GetAsync(session.Id);
        seen.Session?.Id.Should().Be(rotated.Session!.Id, "within the grace window the old id forwards to the new one, never to the cached old snapshot");
    }

    [Fact]
    public async Task DeleteOnA_RepeatedWhileBCachesTheSession_EveryInvalidationReachesBAndBThenNeverServesIt()
    {
        // Latency is measured by the benchmark (benchmarks/SessionKit.Caching.Benchmarks -- latency); this checks delivery.
        var a = await NodeAsync();
        var b = await NodeAsync();
        for (var i = 0; i < 200; i++)
        {
            var session = await a.Manager.CreateAsync();
            (await b.Manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.Found);
            var listener = new RedisNode.Listener(session.Id);
            using var subscription = b.Backplane.Subscribe(listener);
            await a.Manager.DeleteAsync(session.Id);
            await listener.Heard.Task.WaitAsync(TimeSpan.FromSeconds(10));
            (await b.Manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound, "round {0}", i);
        }
    }

    [Fact]
    public async Task LogoutOnA_ClosesTheSessionsBroadcastSubscriptionsOnB()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        using var broadcaster = new SessionBroadcaster(b.Backplane);
        var session = await a.Manager.CreateAsync();
        var other = await a.Manager.CreateAsync();
        using var subscription = broadcaster.Subscribe(session.Id);
        using var bystander = broadcaster.Subscribe(other.Id);

        await a.Manager.DeleteAsync(session.Id);

        await subscription.Reader.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        subscription.IsSessionEnded.Should().BeTrue();
        bystander.Reader.Completion.IsCompleted.Should().BeFalse();
        bystander.IsSessionEnded.Should().BeFalse();
    }

    [Fact]
    public async Task PubSubKilled_DeleteOnAWhileBIsCutOff_IsNeverServedStaleByB()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var session = await a.Manager.CreateAsync();
        await b.Manager.GetAsync(session.Id);

        // Cut every pub/sub connection: an invalidation published before B resubscribes is heard by nobody.
        var watch = new RedisNode.Listener(null);
        using var watching = b.Backplane.Subscribe(watch);
        await redis.Multiplexer.GetDatabase().ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        await RedisNode.WaitUntilAsync(() => Volatile.Read(ref watch.Disconnects) > 0, "B to notice the cut");
        await a.Manager.DeleteAsync(session.Id);

        (await b.Manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);

        await RedisNode.WaitUntilAsync(() => b.Backplane.IsConnected, "B to reconnect");
        (await b.Manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
    }

    [Fact]
    public async Task Backplane_AfterReconnect_CachesAgain()
    {
        var a = await NodeAsync();
        var session = await a.Manager.CreateAsync();

        var watch = new RedisNode.Listener(null);
        using var watching = a.Backplane.Subscribe(watch);
        await redis.Multiplexer.GetDatabase().ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        await RedisNode.WaitUntilAsync(() => Volatile.Read(ref watch.Disconnects) > 0, "the cut to be noticed");
        await RedisNode.WaitUntilAsync(() => a.Backplane.IsConnected, "the reconnect");
        await a.Manager.GetAsync(session.Id);
        await a.Manager.GetAsync(session.Id);

        a.Counting.Calls("get").Should().Be(1);
    }

    [Fact]
    public void Frame_RoundTrips()
    {
        var message = new SessionBackplaneMessage { SourceId = "node-1", Action = SessionBackplaneAction.Notification, SessionId = "abc", Version = 42, Payload = "{\"x\":1} é" };

        RedisSessionBackplane.Decode(RedisSessionBackplane.Encode(message)).Should().Be(message);
        RedisSessionBackplane.Decode(RedisSessionBackplane.Encode(message with { SessionId = null, Payload = null })).Should().Be(message with { SessionId = null, Payload = null });
        RedisSessionBackplane.Decode([1, (byte)'M', 0]).Should().BeNull();
    }
}

/// <summary>Backplane faults that stop the whole server, on a server these tests own.</summary>
public sealed class RedisBackplaneServerFaultTests(PrivateRedisTestServer redis) : IClassFixture<PrivateRedisTestServer>, IAsyncLifetime
{
    private readonly string _prefix = RedisTestServer.NewPrefix();
    private readonly List<RedisNode> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (!redis.Server.IsRunning)
        {
            await redis.Server.StartAsync();
        }

        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task ServerStopped_CachedSessionIsNeverServedFromTheCache()
    {
        var b = await RedisNode.StartAsync(redis.Configuration, _prefix);
        _nodes.Add(b);
        var session = await b.Manager.CreateAsync();
        (await b.Manager.GetAsync(session.Id)).IsFound.Should().BeTrue();

        await redis.Server.StopAsync();
        await RedisNode.WaitUntilAsync(() => !b.Backplane.IsConnected, "the backplane to notice");

        // Whatever the store says while down (an error), the L1 must not answer "found" for a session it cannot vouch for.
        var get = async () => await b.Manager.GetAsync(session.Id);
        await get.Should().ThrowAsync<SessionStoreException>();

        // The restarted server has no data: the session is gone, and the cache agrees.
        await redis.Server.StartAsync();
        await RedisNode.WaitUntilAsync(() => b.Backplane.IsConnected, "the backplane to reconnect", 20_000);
        SessionLookupResult? after = null;
        for (var attempt = 0; attempt < 200 && after is null; attempt++)
        {
            try
            {
                after = await b.Manager.GetAsync(session.Id);
            }
            catch (SessionStoreException)
            {
                // The store's own connection may come back a little after the backplane's.
                await Task.Delay(100);
            }
        }

        after!.Value.Status.Should().Be(SessionLookupStatus.NotFound);
    }
}
