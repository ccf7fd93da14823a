using SessionKit.Redis;
using StackExchange.Redis;

namespace SessionKit.Tests;

/// <summary>Runs the whole store conformance suite against <see cref="RedisSessionStore"/> on a real redis-server, each test under its own key prefix.</summary>
/// <typeparam name="TServer">The deployment (a server fixture, which decides the protocol the multiplexer speaks, or a cluster).</typeparam>
public abstract class RedisSessionStoreConformanceTests<TServer>(TServer redis) : SessionStoreConformanceTests
    where TServer : IRedisTestTarget
{
    private readonly List<string> _prefixes = [];

    protected TServer Redis => redis;

    protected override ISessionStore CreateStore()
    {
        var prefix = RedisTestServer.NewPrefix();
        _prefixes.Add(prefix);
        return redis.CreateStore(o => o.KeyPrefix = prefix);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var prefix in _prefixes)
        {
            await redis.DeletePrefixAsync(prefix);
        }
    }
}

/// <summary>The conformance suite over RESP2, StackExchange.Redis 2.x's default protocol.</summary>
public sealed class RedisSessionStoreConformanceTests(RedisTestServer redis) : RedisSessionStoreConformanceTests<RedisTestServer>(redis), IClassFixture<RedisTestServer>;

/// <summary>
/// The conformance suite over RESP3 (<c>protocol=resp3</c>, which a host on a newer client may choose): <c>HGETALL</c>
/// arrives as a map and script replies as RESP3 arrays, and both must read as they do over RESP2.
/// </summary>
public sealed class RedisSessionStoreResp3ConformanceTests(Resp3RedisTestServer redis) : RedisSessionStoreConformanceTests<Resp3RedisTestServer>(redis), IClassFixture<Resp3RedisTestServer>
{
    [Fact]
    public void Multiplexer_Resp3Fixture_SpeaksResp3()
    {
        var server = Redis.Multiplexer.GetServer(Redis.Server.EndPoint);

        server.Protocol.Should().Be(RedisProtocol.Resp3);
    }
}
