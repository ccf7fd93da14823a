using SessionKit.Redis;
using SessionKit.Redis.Internal;

namespace SessionKit.Tests.Cluster;

/// <summary>Listing all sessions and by kind on a cluster visits every master, not only the node the multiplexer picks.</summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterQueryTests(RedisClusterFixture cluster) : IAsyncLifetime
{
    private const int MaxPages = 500;
    private readonly string _prefix = RedisTestServer.NewPrefix();
    private readonly DateTimeOffset _t0 = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    private RedisSessionStore _store = null!;

    public Task InitializeAsync()
    {
        _store = cluster.CreateStore(o => o.KeyPrefix = _prefix);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        await cluster.DeletePrefixAsync(_prefix);
    }

    [Fact]
    public async Task QueryAllAndByKind_SessionsOnEveryMaster_AreAllListed()
    {
        var even = new HashSet<string>(StringComparer.Ordinal);
        var all = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 60; i++)
        {
            var session = NewSession(i % 2 == 0 ? "even" : "odd");
            (await _store.CreateAsync(session, _t0)).Should().BeTrue();
            all.Add(session.Id);
            if (i % 2 == 0)
            {
                even.Add(session.Id);
            }
        }

        (await MastersHoldingAsync(all)).Should().HaveCount(RedisClusterFixture.MasterCount, "the sessions must really be spread over every master");
        (await MastersHoldingAsync(even)).Should().HaveCount(RedisClusterFixture.MasterCount);

        (await ListAsync(new SessionQuery { Limit = 1000 })).Should().BeEquivalentTo(all);
        (await ListAsync(new SessionQuery { Limit = 1000, Kind = "even" })).Should().BeEquivalentTo(even);
    }

    [Fact]
    public async Task QueryAll_PagingOver250SessionsWithLimit7_EveryPageWithinLimitAndUnionComplete()
    {
        var all = new HashSet<string>(StringComparer.Ordinal);
        var odd = new HashSet<string>(StringComparer.Ordinal);
        await Parallel.ForAsync(0, 250, async (i, cancellationToken) =>
        {
            var session = NewSession(i % 2 == 0 ? "even" : "odd");
            (await _store.CreateAsync(session, _t0, cancellationToken)).Should().BeTrue();
            lock (all)
            {
                all.Add(session.Id);
                if (i % 2 != 0)
                {
                    odd.Add(session.Id);
                }
            }
        });

        var pages = new List<IReadOnlyList<string>>();
        (await ListAsync(new SessionQuery { Limit = 7 }, pages)).Should().BeEquivalentTo(all);
        pages.Should().OnlyContain(static p => p.Count <= 7);
        pages.SelectMany(static p => p).Should().OnlyHaveUniqueItems("no session changed while paging");
        (await ListAsync(new SessionQuery { Limit = 7, Kind = "odd" })).Should().BeEquivalentTo(odd);
    }

    [Fact]
    public async Task QueryAll_EveryMasterButOneEmpty_ListsTheOnesOnTheLastMaster()
    {
        // Sessions only on the master scanned last: the listing must walk past the empty ones.
        var last = cluster.Primaries()[^1].EndPoint;
        var mine = new HashSet<string>(StringComparer.Ordinal);
        while (mine.Count < 5)
        {
            var session = NewSession(kind: null);
            if (Equals(await MasterOfAsync(session.Id), last))
            {
                (await _store.CreateAsync(session, _t0)).Should().BeTrue();
                mine.Add(session.Id);
            }
        }

        (await ListAsync(new SessionQuery { Limit = 2 })).Should().BeEquivalentTo(mine);
    }

    private async Task<HashSet<string>> ListAsync(SessionQuery query, List<IReadOnlyList<string>>? pages = null)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? cursor = null;
        for (var page = 0; page < MaxPages; page++)
        {
            var result = await _store.QueryAsync(query with { Cursor = cursor }, _t0);
            var ids = result.Sessions.Select(static s => s.Id).ToList();
            pages?.Add(ids);
            seen.UnionWith(ids);
            cursor = result.NextCursor;
            if (cursor is null)
            {
                return seen;
            }
        }

        throw new InvalidOperationException($"The listing did not end within {MaxPages} pages.");
    }

    private async Task<HashSet<string>> MastersHoldingAsync(IEnumerable<string> ids)
    {
        var masters = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            masters.Add((await MasterOfAsync(id))!.ToString()!);
        }

        return masters;
    }

    private async Task<System.Net.EndPoint?> MasterOfAsync(string id)
    {
        new RedisKeyspace(_prefix).TrySessionKey(id, out var key).Should().BeTrue();
        return await cluster.Multiplexer.GetDatabase().IdentifyEndpointAsync(key);
    }

    private Session NewSession(string? kind) => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        Kind = kind,
        CreatedAt = _t0,
        LastAccessedAt = _t0,
        IdleTimeout = TimeSpan.FromMinutes(20),
        Version = 1,
    };
}
