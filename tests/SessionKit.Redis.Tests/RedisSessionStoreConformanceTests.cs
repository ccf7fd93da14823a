using SessionKit.Redis;

namespace SessionKit.Tests;

/// <summary>Runs the whole store conformance suite against <see cref="RedisSessionStore"/> on a real redis-server, each test under its own key prefix.</summary>
public sealed class RedisSessionStoreConformanceTests(RedisTestServer redis) : SessionStoreConformanceTests, IClassFixture<RedisTestServer>
{
    private readonly List<string> _prefixes = [];

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
