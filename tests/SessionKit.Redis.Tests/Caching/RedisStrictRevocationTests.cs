using System.Buffers.Binary;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using SessionKit.Caching;
using SessionKit.Redis;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace SessionKit.Tests.Caching;

/// <summary>
/// Strict revocation (DESIGN §13) across nodes that each hold the session in their L1: once a delete returns on one
/// node, no node serves the session again — in tight rounds, while pub/sub connections are cut, while Redis restarts,
/// and with a peer that stops answering. Runs on a server this class owns (one test restarts it).
/// </summary>
public sealed class RedisStrictRevocationTests(PrivateRedisTestServer redis, ITestOutputHelper output) : IClassFixture<PrivateRedisTestServer>, IAsyncLifetime
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

        if (!redis.Server.IsRunning)
        {
            await redis.Server.StartAsync();
        }
    }

    [Theory]
    [InlineData(2, 2000)]
    [InlineData(3, 1500)]
    public async Task DeleteOnAnyNode_ThenGetOnEveryOtherNode_NeverServesTheDeletedSession(int nodeCount, int rounds)
    {
        var nodes = await StartNodesAsync(nodeCount);
        var stale = 0;
        var durations = new List<double>(rounds);
        for (var round = 0; round < rounds; round++)
        {
            var session = await nodes[0].Manager.CreateAsync();
            foreach (var node in nodes)
            {
                // Twice: the second get is an L1 hit, the copy a revocation must take away.
                (await node.Manager.GetAsync(session.Id)).IsFound.Should().BeTrue();
                (await node.Manager.GetAsync(session.Id)).IsFound.Should().BeTrue();
            }

            var deleter = nodes[round % nodeCount];
            var started = Stopwatch.GetTimestamp();
            (await deleter.Manager.DeleteAsync(session.Id)).Should().BeTrue();
            durations.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            foreach (var node in nodes)
            {
                if ((await node.Manager.GetAsync(session.Id)).IsFound)
                {
                    stale++;
                }
            }
        }

        durations.Sort();
        output.WriteLine($"{nodeCount} nodes, {rounds} rounds: {stale} stale; delete (store + revocation) p50 {durations[rounds / 2]:F2} ms, p99 {durations[rounds * 99 / 100]:F2} ms, max {durations[^1]:F2} ms");
        stale.Should().Be(0);
        // Per round, with the L1 serving: one load on each node but the creator, one miss on each node after the delete.
        nodes.Sum(static n => n.Counting.Calls("get")).Should().BeLessThanOrEqualTo((rounds * ((2 * nodeCount) - 1)) + (rounds / 20), "the rounds must really exercise L1 hits, not only store reads");
    }

    [Fact]
    public async Task PubSubConnectionsCutRepeatedly_NoDeletedSessionIsServed()
    {
        var nodes = await StartNodesAsync(2);

        // Each round while cuts keep coming may wait a whole lease (the revoker cannot vouch for its view), so the
        // run lasts at least 4 s of cuts and at least 20 rounds (at most 60 s).
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var cuts = 0;
        var cutter = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(Random.Shared.Next(20, 150));
                await redis.Multiplexer.GetDatabase().ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
                cuts++;
            }
        });

        var (rounds, stale) = await RunRoundsUntilAsync(nodes, stop.Token, minRounds: 20, minDuration: TimeSpan.FromSeconds(4));
        await stop.CancelAsync();
        await cutter;
        output.WriteLine($"{rounds} rounds with {cuts} pub/sub cuts: {stale} stale");
        rounds.Should().BeGreaterThan(10);
        stale.Should().Be(0);
    }

    [Fact]
    public async Task RedisRestartsDuringTheRounds_NoDeletedSessionIsServed()
    {
        var nodes = await StartNodesAsync(2);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(8));
        var restarter = Task.Run(async () =>
        {
            await Task.Delay(1500);
            await redis.Server.StopAsync();
            await Task.Delay(300);
            await redis.Server.StartAsync();
        });

        var (rounds, stale) = await RunRoundsUntilAsync(nodes, stop.Token);
        await restarter;
        output.WriteLine($"{rounds} completed rounds around a Redis restart: {stale} stale");
        rounds.Should().BeGreaterThan(10);
        stale.Should().Be(0);
    }

    [Fact]
    public async Task APeerThatHeartbeatsButNeverAcknowledges_IsWaitedForUntilItsLeaseEnds_ThenForgotten()
    {
        var nodes = await StartNodesAsync(2);
        var lease = TimeSpan.FromMilliseconds(1000);
        var peer = RandomNumberGeneratorBytes();
        var channel = RedisChannel.Literal(_prefix + "backplane");
        var subscriber = redis.Multiplexer.GetSubscriber();
        using var silence = new CancellationTokenSource();
        var heartbeats = Task.Run(async () =>
        {
            while (!silence.IsCancellationRequested)
            {
                await subscriber.PublishAsync(channel, Heartbeat(peer));
                await Task.Delay(100);
            }
        });
        await Task.Delay(300);

        var session = await nodes[0].Manager.CreateAsync();
        var started = Stopwatch.GetTimestamp();
        await nodes[0].Manager.DeleteAsync(session.Id);
        var waited = Stopwatch.GetElapsedTime(started);

        await silence.CancelAsync();
        await heartbeats;
        await Task.Delay(lease + TimeSpan.FromMilliseconds(300));
        // The best of three: on a loaded machine the revoker's own lease can lapse for a moment, and then it rightly
        // waits a whole lease whatever the roster says; the peer is forgotten if any of the three does not wait.
        var afterSilence = TimeSpan.MaxValue;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var again = await nodes[0].Manager.CreateAsync();
            started = Stopwatch.GetTimestamp();
            await nodes[0].Manager.DeleteAsync(again.Id);
            var elapsed = Stopwatch.GetElapsedTime(started);
            afterSilence = elapsed < afterSilence ? elapsed : afterSilence;
        }

        output.WriteLine($"revocation with a mute peer: {waited.TotalMilliseconds:F0} ms; once it fell silent: {afterSilence.TotalMilliseconds:F1} ms");
        waited.Should().BeGreaterThan(lease * 0.9, "a peer that may hold a lease is waited for until the lease must have ended");
        afterSilence.Should().BeLessThan(lease * 0.5, "a peer silent for longer than a lease holds none and is not waited for");
    }

    [Fact]
    public async Task ANodeThatLeaves_IsNotWaitedFor()
    {
        var nodes = await StartNodesAsync(2);
        var leaving = await RedisNode.StartAsync(redis.Configuration, _prefix);
        await RedisNode.WaitUntilAsync(() => nodes[0].Backplane.CanVouch, "the first node to vouch for its view");
        await Task.Delay(300); // the leaving node's heartbeats are in the first node's roster
        await leaving.DisposeAsync();

        var session = await nodes[0].Manager.CreateAsync();
        var started = Stopwatch.GetTimestamp();
        await nodes[0].Manager.DeleteAsync(session.Id);
        var waited = Stopwatch.GetElapsedTime(started);

        output.WriteLine($"revocation right after a node left: {waited.TotalMilliseconds:F1} ms");
        waited.Should().BeLessThan(TimeSpan.FromMilliseconds(500), "a node that said it left is no longer waited for (its lease would have meant 1 s)");
    }

    [Fact]
    public async Task EventualMode_DoesNotWaitForOtherNodes()
    {
        // A mute peer would hold a strict revocation for a whole lease (see above); eventual mode only publishes.
        var nodes = await StartNodesAsync(2, c => c.StrictRevocation = false);
        var channel = RedisChannel.Literal(_prefix + "backplane");
        var mute = RandomNumberGeneratorBytes();
        await redis.Multiplexer.GetSubscriber().PublishAsync(channel, Heartbeat(mute));
        var session = await nodes[0].Manager.CreateAsync();
        (await nodes[1].Manager.GetAsync(session.Id)).IsFound.Should().BeTrue();
        var heard = nodes[1].NextChangeAsync(session.Id);

        var started = Stopwatch.GetTimestamp();
        await nodes[0].Manager.DeleteAsync(session.Id);
        var waited = Stopwatch.GetElapsedTime(started);

        waited.Should().BeLessThan(TimeSpan.FromMilliseconds(500), "eventual mode does not wait for acknowledgements or leases (strict would wait 1 s for the mute peer)");
        (await heard).Action.Should().Be(SessionBackplaneAction.Deleted);
        (await nodes[1].Manager.GetAsync(session.Id)).IsFound.Should().BeFalse();
    }

    private static async Task<(int Rounds, int Stale)> RunRoundsUntilAsync(IReadOnlyList<RedisNode> nodes, CancellationToken stop, int minRounds = int.MaxValue, TimeSpan minDuration = default)
    {
        var rounds = 0;
        var stale = 0;
        var start = Stopwatch.GetTimestamp();
        while (!stop.IsCancellationRequested && (rounds < minRounds || Stopwatch.GetElapsedTime(start) < minDuration))
        {
            try
            {
                // Each round runs to its end: the stop token only ends the loop.
                var session = await nodes[0].Manager.CreateAsync(cancellationToken: CancellationToken.None);
                await nodes[1].Manager.GetAsync(session.Id, cancellationToken: CancellationToken.None);
                if (!await nodes[rounds % 2].Manager.DeleteAsync(session.Id, cancellationToken: CancellationToken.None))
                {
                    continue;
                }

                foreach (var node in nodes)
                {
                    if ((await node.Manager.GetAsync(session.Id, cancellationToken: CancellationToken.None)).IsFound)
                    {
                        stale++;
                    }
                }

                rounds++;
            }
            catch (Exception ex) when (ex is SessionStoreException or SessionBackplaneException)
            {
                // Redis was down for this round: nothing was acknowledged, nothing to check.
                await Task.Delay(20, CancellationToken.None);
            }
        }

        return (rounds, stale);
    }

    private async Task<List<RedisNode>> StartNodesAsync(int count, Action<SessionCacheOptions>? configure = null)
    {
        var nodes = new List<RedisNode>();
        for (var i = 0; i < count; i++)
        {
            var node = await RedisNode.StartAsync(redis.Configuration, _prefix, configure);
            nodes.Add(node);
            _nodes.Add(node);
        }

        // Each node vouches for its view of the channel after one whole lease; until then revocations wait a lease out.
        foreach (var node in nodes)
        {
            await RedisNode.WaitUntilAsync(() => node.Backplane.CanVouch, "the backplane to vouch for its view");
        }

        return nodes;
    }

    private static byte[] RandomNumberGeneratorBytes() => System.Security.Cryptography.RandomNumberGenerator.GetBytes(16);

    private static byte[] Heartbeat(byte[] node)
    {
        var frame = new byte[2 + 16 + 8];
        frame[0] = 2;
        frame[1] = (byte)'H';
        node.CopyTo(frame, 2);
        BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(18), Stopwatch.GetTimestamp());
        return frame;
    }
}
