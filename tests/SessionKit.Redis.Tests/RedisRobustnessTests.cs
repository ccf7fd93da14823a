using System.Text;
using Microsoft.Extensions.Options;
using SessionKit.Redis;
using StackExchange.Redis;

namespace SessionKit.Tests;

/// <summary>What a foreign value at a session key and a user who never returns do to the Redis store.</summary>
public sealed class RedisRobustnessTests(RedisTestServer redis) : IClassFixture<RedisTestServer>, IAsyncLifetime
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(20);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);
    private readonly string _prefix = RedisTestServer.NewPrefix();
    private readonly CapturingLoggerProvider _logs = new();
    private readonly DateTimeOffset _t0 = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    private RedisSessionStore _store = null!;

    private IDatabase Db => redis.Multiplexer.GetDatabase();

    public Task InitializeAsync()
    {
        _store = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { ConnectionMultiplexer = redis.Multiplexer, KeyPrefix = _prefix, ExpiryGracePeriod = Grace }), _logs);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        await redis.DeletePrefixAsync(_prefix);
        _logs.Dispose();
    }

    [Fact]
    public async Task ForeignValueAtOneSessionKey_IsAbsentForEveryOperation_AndBreaksNoOtherCaller()
    {
        var sessions = new List<Session>();
        for (var i = 0; i < 5; i++)
        {
            var s = NewSession("owner");
            (await _store.CreateAsync(s, _t0)).Should().BeTrue();
            sessions.Add(s);
        }

        var victim = sessions[2];
        await Db.StringSetAsync(SessionKey(victim.Id), "x");
        var now = _t0 + TimeSpan.FromSeconds(1);

        (await _store.GetAsync(victim.Id, now)).Should().BeNull();
        (await _store.ExistsAsync(victim.Id, now)).Should().BeFalse();
        await Db.StringSetAsync(SessionKey(victim.Id), "x");
        (await _store.TouchAsync(victim.Id, now)).Should().BeFalse();
        (await _store.UpdateAsync(victim.Id, new SessionChanges().SetMetadata("k", "v"), now, 1024)).Status.Should().Be(SessionUpdateStatus.NotFound);
        var all = await _store.QueryAsync(new SessionQuery(), now);
        var byUser = await _store.QueryAsync(new SessionQuery { UserId = "owner" }, now);

        all.Sessions.Select(static s => s.Id).Should().BeEquivalentTo(sessions.Where(s => s != victim).Select(static s => s.Id));
        byUser.Sessions.Select(static s => s.Id).Should().BeEquivalentTo(sessions.Where(s => s != victim).Select(static s => s.Id));
        (await Db.KeyExistsAsync(SessionKey(victim.Id))).Should().BeFalse("the foreign value is cleaned up");
        _logs.Entries.Should().Contain(static e => e.EventId.Id == 206);
        _logs.Entries.Should().NotContain(e => e.AllText.Contains(victim.Id), "logged by tag, never by id");
    }

    [Fact]
    public async Task ForeignValue_DuringTheSweep_IsRemovedAndTheOtherExpiredSessionsAreReported()
    {
        var sessions = new List<Session>();
        for (var i = 0; i < 4; i++)
        {
            var s = NewSession("owner");
            await _store.CreateAsync(s, _t0);
            sessions.Add(s);
        }

        await Db.StringSetAsync(SessionKey(sessions[1].Id), "x");

        var removed = await _store.RemoveExpiredAsync(_t0 + Idle, 100);

        removed.Select(static s => s.Id).Should().BeEquivalentTo(new[] { sessions[0].Id, sessions[2].Id, sessions[3].Id }, "their Expired events must not be lost");
        (await Db.KeyExistsAsync(SessionKey(sessions[1].Id))).Should().BeFalse();
        (await Db.SortedSetScoreAsync(RedisLayout.ExpiryKey(_prefix, sessions[1].Id), sessions[1].Id)).Should().BeNull();
    }

    [Fact]
    public async Task UserIndex_OfAUserWhoseSessionsTheTtlReclaimed_ExpiresWithThem()
    {
        var userKey = (RedisKey)Encoding.UTF8.GetBytes(_prefix + "u:gone-for-good");
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        for (var i = 0; i < 30; i++)
        {
            var s = NewSession("gone-for-good", at: now) with { IdleTimeout = TimeSpan.FromMilliseconds(300) };
            (await _store.CreateAsync(s, now)).Should().BeTrue();
        }

        var ttl = await Db.KeyTimeToLiveAsync(userKey);
        ttl.Should().NotBeNull("an index key has a bounded life").And.Subject!.Value.Should().BeLessThanOrEqualTo(TimeSpan.FromMilliseconds(300) + Grace);

        // No sweep runs: Redis's own TTLs reclaim the hashes and then the index.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (await Db.KeyExistsAsync(userKey) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        (await Db.KeyExistsAsync(userKey)).Should().BeFalse("the index of a user who never returns must not leak");
    }

    [Fact]
    public async Task UserIndex_TtlFollowsTheLatestSession_NotTheFirst()
    {
        var userKey = (RedisKey)Encoding.UTF8.GetBytes(_prefix + "u:long-lived");
        await _store.CreateAsync(NewSession("long-lived") with { IdleTimeout = TimeSpan.FromSeconds(5) }, _t0);
        await _store.CreateAsync(NewSession("long-lived") with { IdleTimeout = TimeSpan.FromHours(2) }, _t0);
        await _store.CreateAsync(NewSession("long-lived") with { IdleTimeout = TimeSpan.FromSeconds(5) }, _t0);

        (await Db.KeyTimeToLiveAsync(userKey))!.Value.Should().BeGreaterThan(TimeSpan.FromHours(1.9));
    }

    private RedisKey SessionKey(string id) => RedisLayout.SessionKey(_prefix, id);

    private Session NewSession(string? userId = null, DateTimeOffset? at = null) => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        UserId = userId,
        CreatedAt = at ?? _t0,
        LastAccessedAt = at ?? _t0,
        IdleTimeout = Idle,
        Version = 1,
    };
}
