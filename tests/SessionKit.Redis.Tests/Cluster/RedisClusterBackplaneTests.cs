using System.Globalization;
using SessionKit.Caching;
using SessionKit.Tests.Caching;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace SessionKit.Tests.Cluster;

/// <summary>
/// The backplane on a cluster: two nodes, each with its own store and backplane connections to every master. Classic
/// <c>PUBLISH</c> reaches subscribers on every master; the client sends a channel's <c>SUBSCRIBE</c> and
/// <c>PUBLISH</c> to the master owning the channel name's slot, so every node's frames go through one server and
/// strict revocation's ordering argument (DESIGN §13) holds as on a single Redis.
/// </summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterBackplaneTests(RedisClusterFixture cluster, ITestOutputHelper output) : IAsyncLifetime
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

        await cluster.DeletePrefixAsync(_prefix);
    }

    [Fact]
    public async Task DeleteAndUpdateOnA_AreHeardByB_AndBNeverServesTheDeletedSession()
    {
        var (a, b) = await StartNodesAsync();
        var session = await a.Manager.CreateAsync();
        (await b.Manager.GetAsync(session.Id)).IsFound.Should().BeTrue();
        (await b.Manager.GetAsync(session.Id)).IsFound.Should().BeTrue();
        b.Counting.Calls("get").Should().Be(1, "the second read is an L1 hit");

        var updated = b.NextChangeAsync(session.Id);
        await a.Manager.UpdateAsync(session.Id, new SessionChanges().SetMetadata("role", "admin"));
        (await updated).Version.Should().Be(2);
        (await b.Manager.GetAsync(session.Id)).Session!.Metadata["role"].Should().Be("admin");

        var deleted = b.NextChangeAsync(session.Id);
        (await a.Manager.DeleteAsync(session.Id)).Should().BeTrue();
        (await deleted).Action.Should().Be(SessionBackplaneAction.Deleted);
        (await b.Manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
    }

    [Fact]
    public async Task Channel_EveryNodeSubscribesAndPublishesOnTheSameMaster()
    {
        var (a, _) = await StartNodesAsync();
        var channel = _prefix + "backplane";
        var before = await PublishCountsAsync();
        for (var i = 0; i < 20; i++)
        {
            await a.Manager.DeleteAsync((await a.Manager.CreateAsync()).Id);
        }

        var subscribers = new List<long>();
        foreach (var server in cluster.Primaries())
        {
            var reply = (RedisResult[])(await server.ExecuteAsync("PUBSUB", "NUMSUB", channel))!;
            subscribers.Add((long)reply[1]);
        }

        var after = await PublishCountsAsync();
        var published = after.Zip(before, static (x, y) => x - y).ToList();
        output.WriteLine($"subscriptions per master: {string.Join(", ", subscribers)}; publishes per master: {string.Join(", ", published)}");
        subscribers.Should().ContainSingle(static n => n > 0, "both nodes subscribe on one master").Which.Should().Be(2);
        published.Should().ContainSingle(static n => n > 0, "every frame is published on one master");
        published.IndexOf(published.Max()).Should().Be(subscribers.IndexOf(2), "the subscriptions and the publishes are on the same master");
    }

    [Fact]
    public async Task DeleteOnEitherNode_ThenGetOnBoth_NeverServesTheDeletedSession()
    {
        const int Rounds = 300;
        var (a, b) = await StartNodesAsync();
        RedisNode[] nodes = [a, b];
        var stale = 0;
        for (var round = 0; round < Rounds; round++)
        {
            var session = await a.Manager.CreateAsync();
            foreach (var node in nodes)
            {
                // Twice: the second get is an L1 hit, the copy a revocation must take away.
                (await node.Manager.GetAsync(session.Id)).IsFound.Should().BeTrue();
                (await node.Manager.GetAsync(session.Id)).IsFound.Should().BeTrue();
            }

            (await nodes[round % 2].Manager.DeleteAsync(session.Id)).Should().BeTrue();
            foreach (var node in nodes)
            {
                if ((await node.Manager.GetAsync(session.Id)).IsFound)
                {
                    stale++;
                }
            }
        }

        output.WriteLine($"2 nodes on a cluster, {Rounds} rounds: {stale} stale");
        stale.Should().Be(0);
        nodes.Sum(static n => n.Counting.Calls("get")).Should().BeLessThanOrEqualTo((Rounds * 3) + (Rounds / 20), "the rounds must really exercise L1 hits, not only store reads");
    }

    private async Task<(RedisNode A, RedisNode B)> StartNodesAsync()
    {
        var a = await RedisNode.StartAsync(cluster.Configuration, _prefix);
        _nodes.Add(a);
        var b = await RedisNode.StartAsync(cluster.Configuration, _prefix);
        _nodes.Add(b);

        // Each node vouches for its view of the channel after one whole lease; until then revocations wait a lease out.
        await RedisNode.WaitUntilAsync(() => a.Backplane.CanVouch && b.Backplane.CanVouch, "the backplanes to vouch for their view");
        return (a, b);
    }

    private async Task<List<long>> PublishCountsAsync()
    {
        var counts = new List<long>();
        foreach (var server in cluster.Primaries())
        {
            var info = (string)(await server.ExecuteAsync("INFO", "commandstats"))!;
            var line = info.Split('\n').FirstOrDefault(static l => l.StartsWith("cmdstat_publish:calls=", StringComparison.Ordinal));
            counts.Add(line is null ? 0 : long.Parse(line.AsSpan(22, line.IndexOf(',', StringComparison.Ordinal) - 22), CultureInfo.InvariantCulture));
        }

        return counts;
    }
}
