using Microsoft.Extensions.Options;
using SessionKit.Caching;
using SessionKit.Redis;

namespace SessionKit.Tests.Caching;

/// <summary>The broadcaster across two nodes over the Redis backplane, on a single server.</summary>
public sealed class RedisBroadcasterTests(RedisTestServer redis) : RedisBroadcasterTests<RedisTestServer>(redis), IClassFixture<RedisTestServer>;

/// <summary>The broadcaster across two nodes over the Redis backplane.</summary>
/// <typeparam name="TTarget">The deployment both nodes connect to (a single server or a cluster).</typeparam>
public abstract class RedisBroadcasterTests<TTarget>(TTarget redis) : IAsyncLifetime
    where TTarget : IRedisTestTarget
{
    private readonly string _channel = RedisTestServer.NewPrefix() + "backplane";
    private readonly List<IAsyncDisposable> _owned = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }
    }

    private async Task<SessionBroadcaster> NodeAsync(int capacity = 64)
    {
        var backplane = new RedisSessionBackplane(Options.Create(new RedisSessionBackplaneOptions { Configuration = redis.Configuration, Channel = _channel, HeartbeatInterval = TimeSpan.FromMilliseconds(200) }));
        _owned.Add(backplane);
        await RedisNode.WaitUntilAsync(() => backplane.IsConnected, "the backplane to connect");
        var broadcaster = new SessionBroadcaster(backplane, Options.Create(new SessionBroadcasterOptions { SubscriberBufferCapacity = capacity }));
        _owned.Add(broadcaster);
        return broadcaster;
    }

    [Fact]
    public async Task FanOut_AcrossTwoNodes_SlowSubscriberDroppedOthersKeepReceiving()
    {
        var a = await NodeAsync();
        var b = await NodeAsync(capacity: 256);
        using var slow = b.Subscribe("s1");
        using var fast = b.Subscribe("s1");
        using var local = a.Subscribe("s1");
        var received = new List<string>();
        var reader = Task.Run(async () =>
        {
            await foreach (var notification in fast.Reader.ReadAllAsync())
            {
                received.Add(notification.Payload);
                if (notification.Payload == "n499")
                {
                    return;
                }
            }
        });

        for (var i = 0; i < 500; i++)
        {
            await a.PublishAsync("s1", $"n{i}");
        }

        await reader.WaitAsync(TimeSpan.FromSeconds(10));
        received.Should().HaveCount(500);
        received.Should().Equal(Enumerable.Range(0, 500).Select(i => $"n{i}"), "one publisher's notifications arrive in order");
        slow.IsDropped.Should().BeTrue();
        local.IsDropped.Should().BeTrue("nobody reads the local subscriber either");
    }

    [Fact]
    public async Task PublishToAll_ReachesTheOtherNode()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        using var subscription = b.Subscribe("any-session");

        await a.PublishToAllAsync("restarting");

        var notification = await subscription.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        notification.Should().Be(new SessionNotification(null, "restarting"));
    }
}
