using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SessionKit.Caching;

namespace SessionKit.Tests.Caching;

public sealed class SessionBroadcasterTests : IDisposable
{
    private readonly InProcessSessionBackplane _backplane = new();
    private readonly List<SessionBroadcaster> _nodes = [];

    public void Dispose()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }
    }

    private SessionBroadcaster Node(int capacity = 64)
    {
        var node = new SessionBroadcaster(_backplane, Options.Create(new SessionBroadcasterOptions { SubscriberBufferCapacity = capacity }));
        _nodes.Add(node);
        return node;
    }

    private static List<SessionNotification> Drain(SessionSubscription subscription)
    {
        var received = new List<SessionNotification>();
        while (subscription.Reader.TryRead(out var notification))
        {
            received.Add(notification);
        }

        return received;
    }

    [Fact]
    public async Task Publish_ToOneSession_ReachesItsSubscribersOnBothNodes_AndNoOtherSession()
    {
        var a = Node();
        var b = Node();
        using var onA = a.Subscribe("s1");
        using var onB = b.Subscribe("s1");
        using var other = b.Subscribe("s2");
        using var everything = b.Subscribe(null);

        await a.PublishAsync("s1", "hello");

        Drain(onA).Should().ContainSingle().Which.Should().Be(new SessionNotification("s1", "hello"));
        Drain(onB).Should().ContainSingle().Which.Payload.Should().Be("hello");
        Drain(everything).Should().ContainSingle();
        Drain(other).Should().BeEmpty();
    }

    [Fact]
    public async Task PublishToAll_ReachesEverySessionsSubscribersOnEveryNode()
    {
        var a = Node();
        var b = Node();
        using var s1 = a.Subscribe("s1");
        using var s2 = b.Subscribe("s2");

        await b.PublishToAllAsync("maintenance");

        Drain(s1).Should().ContainSingle().Which.Should().Be(new SessionNotification(null, "maintenance"));
        Drain(s2).Should().ContainSingle();
    }

    [Fact]
    public async Task SlowSubscriber_IsDropped_OthersKeepReceiving_AndThePublisherNeverWaits()
    {
        var a = Node(capacity: 8);
        var b = Node(capacity: 8);
        using var slow = b.Subscribe("s1");
        using var fast = b.Subscribe("s1");
        var received = new List<string>();

        for (var i = 0; i < 1000; i++)
        {
            var publish = a.PublishAsync("s1", $"n{i}");
            publish.IsCompletedSuccessfully.Should().BeTrue("publishing never waits for a subscriber");
            await publish;
            received.AddRange(Drain(fast).Select(n => n.Payload));
        }

        slow.IsDropped.Should().BeTrue();
        Drain(slow).Should().HaveCount(8, "what it had buffered can still be read");
        slow.Reader.Completion.IsCompleted.Should().BeTrue();
        fast.IsDropped.Should().BeFalse();
        received.Should().HaveCount(1000).And.EndWith("n999");
        b.SubscriberCount.Should().Be(1);
    }

    [Fact]
    public async Task Dispose_CompletesEveryReader()
    {
        var a = Node();
        var subscription = a.Subscribe("s1");
        var reading = subscription.Reader.ReadAllAsync().ToListAsync();

        a.Dispose();

        (await reading.AsTask().WaitAsync(TimeSpan.FromSeconds(5))).Should().BeEmpty();
        subscription.IsDropped.Should().BeFalse();
    }

    [Fact]
    public async Task Subscription_Disposed_ReceivesNothingMore()
    {
        var a = Node();
        var subscription = a.Subscribe("s1");

        subscription.Dispose();
        await a.PublishAsync("s1", "late");

        Drain(subscription).Should().BeEmpty();
        a.SubscriberCount.Should().Be(0);
    }

    [Fact]
    public async Task AddSessionBroadcaster_RegistersTheBroadcaster()
    {
        var services = new ServiceCollection();
        services.AddSessions().AddSessionBroadcaster(o => o.SubscriberBufferCapacity = 3);
        await using var provider = services.BuildServiceProvider();

        var broadcaster = provider.GetRequiredService<ISessionBroadcaster>();
        using var subscription = broadcaster.Subscribe("s");
        await broadcaster.PublishAsync("s", "x");

        Drain(subscription).Should().ContainSingle();
    }

    [Fact]
    public async Task SessionDeletedRotatedOrExpired_ClosesItsSubscriptions_OnlyThose()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddSessions(o => o.EnableBackgroundCleanup = false).AddSessionBroadcaster();
        await using var provider = services.BuildServiceProvider();
        var manager = provider.GetRequiredService<SessionManager>();
        var broadcaster = provider.GetRequiredService<ISessionBroadcaster>();
        var deleted = await manager.CreateAsync();
        var rotated = await manager.CreateAsync();
        var expiring = await manager.CreateAsync(new SessionCreateOptions { IdleTimeout = TimeSpan.FromMinutes(1) });
        var untouched = await manager.CreateAsync();
        using var onDeleted = broadcaster.Subscribe(deleted.Id);
        using var onRotated = broadcaster.Subscribe(rotated.Id);
        using var onExpired = broadcaster.Subscribe(expiring.Id);
        using var onUntouched = broadcaster.Subscribe(untouched.Id);
        using var everyone = broadcaster.Subscribe(null);

        await manager.DeleteAsync(deleted.Id);
        await manager.RotateAsync(rotated.Id);
        time.Advance(TimeSpan.FromMinutes(2));
        await manager.CleanupExpiredAsync();

        foreach (var ended in new[] { onDeleted, onRotated, onExpired })
        {
            ended.IsSessionEnded.Should().BeTrue();
            await ended.Reader.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        }

        onUntouched.IsSessionEnded.Should().BeFalse();
        everyone.IsSessionEnded.Should().BeFalse();
        await broadcaster.PublishAsync(untouched.Id, "still here");
        Drain(onUntouched).Should().ContainSingle().Which.Payload.Should().Be("still here");
        Drain(everyone).Should().ContainSingle();
        await broadcaster.PublishAsync(deleted.Id, "after logout");
        Drain(onDeleted).Should().BeEmpty();
    }
}
