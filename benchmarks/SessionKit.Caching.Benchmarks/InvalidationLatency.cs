using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using SessionKit.Redis;
using StackExchange.Redis;

namespace SessionKit.Caching.Benchmarks;

/// <summary>
/// Invalidation latency between two nodes (each its own store, backplane and manager over one redis-server): the time
/// from a delete starting on node A to node B's backplane delivering the invalidation, beside a raw Redis pub/sub
/// round trip (publish on one connection, receive on another) measured in the same run.
/// </summary>
internal static class InvalidationLatency
{
    private const int Warmup = 50;
    private const int Rounds = 1000;

    public static async Task<int> RunAsync()
    {
        using var redis = new LocalRedis();
        var configuration = redis.EndPoint + ",abortConnect=false";
        await using var a = await Node.StartAsync(configuration);
        await using var b = await Node.StartAsync(configuration);

        var raw = await MeasureRawPubSubAsync(configuration);
        var invalidation = new double[Rounds];
        for (var i = -Warmup; i < Rounds; i++)
        {
            var session = await a.Manager.CreateAsync();
            if ((await b.Manager.GetAsync(session.Id)).Status != SessionLookupStatus.Found)
            {
                throw new InvalidOperationException("Node B did not find node A's session.");
            }

            var listener = new Listener(session.Id);
            using (b.Backplane.Subscribe(listener))
            {
                var started = Stopwatch.GetTimestamp();
                await a.Manager.DeleteAsync(session.Id);
                await listener.Heard.Task.WaitAsync(TimeSpan.FromSeconds(10));
                if (i >= 0)
                {
                    invalidation[i] = Stopwatch.GetElapsedTime(started, listener.ReceivedAt).TotalMilliseconds;
                }
            }

            if ((await b.Manager.GetAsync(session.Id)).Status != SessionLookupStatus.NotFound)
            {
                throw new InvalidOperationException("Node B served a session deleted on node A.");
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Redis on {redis.EndPoint}; {Environment.ProcessorCount} CPUs; {Rounds} rounds after {Warmup} warm-up; load average {LoadAverage()}"));
        Console.WriteLine();
        Console.WriteLine("| measured | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Print("raw pub/sub round trip, connection 1 -> connection 2 (baseline)", raw);
        Print("delete on node A -> invalidation delivered on node B", invalidation);
        Array.Sort(raw);
        Array.Sort(invalidation);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"p50 ratio to baseline: {invalidation[Rounds / 2] / raw[Rounds / 2]:F2}x (the delete itself is one store round trip before the publish)"));
        return 0;
    }

    private static async Task<double[]> MeasureRawPubSubAsync(string configuration)
    {
        using var publisher = ConnectionMultiplexer.Connect(configuration);
        using var receiver = ConnectionMultiplexer.Connect(configuration);
        var channel = RedisChannel.Literal("bench:raw");
        TaskCompletionSource<long>? pending = null;
        await receiver.GetSubscriber().SubscribeAsync(channel, (_, _) => Volatile.Read(ref pending)?.TrySetResult(Stopwatch.GetTimestamp()));
        var samples = new double[Rounds];
        for (var i = -Warmup; i < Rounds; i++)
        {
            var heard = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref pending, heard);
            var started = Stopwatch.GetTimestamp();
            await publisher.GetSubscriber().PublishAsync(channel, "x");
            var received = await heard.Task.WaitAsync(TimeSpan.FromSeconds(10));
            if (i >= 0)
            {
                samples[i] = Stopwatch.GetElapsedTime(started, received).TotalMilliseconds;
            }
        }

        return samples;
    }

    private static void Print(string name, double[] samples)
    {
        var sorted = (double[])samples.Clone();
        Array.Sort(sorted);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {name} | {sorted[sorted.Length / 2]:F3} | {sorted[(int)(sorted.Length * 0.9)]:F3} | {sorted[(int)(sorted.Length * 0.99)]:F3} | {sorted[^1]:F3} |"));
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private sealed class Listener(string id) : ISessionBackplaneSubscriber
    {
        public TaskCompletionSource Heard { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long ReceivedAt { get; private set; }

        public void OnConnectionChanged(bool connected)
        {
        }

        public void OnMessage(SessionBackplaneMessage message)
        {
            if (message.SessionId == id && message.Action == SessionBackplaneAction.Deleted && !Heard.Task.IsCompleted)
            {
                ReceivedAt = Stopwatch.GetTimestamp();
                Heard.TrySetResult();
            }
        }
    }

    private sealed class Node : IAsyncDisposable
    {
        private readonly RedisSessionStore _store;

        private Node(RedisSessionStore store, RedisSessionBackplane backplane, SessionManager manager)
        {
            _store = store;
            Backplane = backplane;
            Manager = manager;
        }

        public RedisSessionBackplane Backplane { get; }

        public SessionManager Manager { get; }

        public static async Task<Node> StartAsync(string configuration)
        {
            var store = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { Configuration = configuration, KeyPrefix = "bench:" }));
            var backplane = new RedisSessionBackplane(Options.Create(new RedisSessionBackplaneOptions { Configuration = configuration, Channel = "bench:backplane" }));
            var manager = new SessionManager(
                store,
                Options.Create(new SessionKitOptions { EnableBackgroundCleanup = false, Cache = new SessionCacheOptions { Enabled = true } }),
                backplane: backplane);
            var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 10;
            while (!backplane.IsConnected && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(10);
            }

            return backplane.IsConnected ? new Node(store, backplane, manager) : throw new InvalidOperationException("The backplane did not connect.");
        }

        public async ValueTask DisposeAsync()
        {
            await Manager.DisposeAsync();
            await Backplane.DisposeAsync();
            await _store.DisposeAsync();
        }
    }
}
