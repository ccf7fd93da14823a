using Microsoft.Extensions.Options;
using SessionKit.Caching;
using SessionKit.Redis;

namespace SessionKit.Tests.Caching;

/// <summary>One application node on a shared Redis: its own store connection, its own backplane connection, one manager with the L1 on.</summary>
internal sealed class RedisNode : IAsyncDisposable
{
    private RedisNode(RedisSessionStore store, RedisSessionBackplane backplane, SessionManager manager, CountingSessionStore counting)
    {
        Store = store;
        Counting = counting;
        Backplane = backplane;
        Manager = manager;
    }

    public RedisSessionStore Store { get; }

    /// <summary>Gets the counting decorator the manager reads through (store "get" calls are L1 misses).</summary>
    public CountingSessionStore Counting { get; }

    public RedisSessionBackplane Backplane { get; }

    public SessionManager Manager { get; }

    public static async Task<RedisNode> StartAsync(string configuration, string prefix, Action<SessionCacheOptions>? configure = null, Action<SessionKitOptions>? configureManager = null)
    {
        var store = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { Configuration = configuration, KeyPrefix = prefix, OperationTimeout = TimeSpan.FromSeconds(2) }));
        var backplane = new RedisSessionBackplane(Options.Create(new RedisSessionBackplaneOptions
        {
            Configuration = configuration,
            Channel = prefix + "backplane",
            HeartbeatInterval = TimeSpan.FromMilliseconds(200),
            HeartbeatTimeout = TimeSpan.FromMilliseconds(1000),
        }));
        var cache = new SessionCacheOptions { Enabled = true, WriteBehindTouches = false };
        configure?.Invoke(cache);
        var counting = new CountingSessionStore(store);
        var managerOptions = new SessionKitOptions { EnableBackgroundCleanup = false, Cache = cache };
        configureManager?.Invoke(managerOptions);
        var manager = new SessionManager(counting, Options.Create(managerOptions), backplane: backplane);
        var node = new RedisNode(store, backplane, manager, counting);
        await WaitUntilAsync(() => backplane.IsConnected, "the backplane to connect");
        return node;
    }

    public static async Task WaitUntilAsync(Func<bool> condition, string what, int timeoutMs = 10_000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }

            await Task.Delay(5);
        }
    }

    /// <summary>Completes when this node's backplane delivers a message about the session (after the manager handled it).</summary>
    public Task<SessionBackplaneMessage> NextChangeAsync(string id)
    {
        var listener = new Listener(id);
        var subscription = Backplane.Subscribe(listener);
        _ = listener.Heard.Task.ContinueWith(_ => subscription.Dispose(), TaskScheduler.Default);
        return listener.Heard.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }

    public async ValueTask DisposeAsync()
    {
        await Manager.DisposeAsync();
        await Backplane.DisposeAsync();
        await Store.DisposeAsync();
    }

    /// <summary>Records when the backplane delivers a message about one session.</summary>
    internal sealed class Listener(string? id) : ISessionBackplaneSubscriber
    {
        public TaskCompletionSource<SessionBackplaneMessage> Heard { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long ReceivedAt { get; private set; }

        public void OnMessage(SessionBackplaneMessage message)
        {
            if (message.SessionId == id)
            {
                ReceivedAt = System.Diagnostics.Stopwatch.GetTimestamp();
                Heard.TrySetResult(message);
            }
        }

        public int Disconnects;

        public void OnConnectionChanged(bool connected)
        {
            if (!connected)
            {
                Interlocked.Increment(ref Disconnects);
            }
        }
    }
}
