namespace SessionKit.Tests;

/// <summary>The hijack matrix, rotation and resurrection races on <see cref="Redis.RedisSessionStore"/> against a real redis-server.</summary>
public sealed class RedisSessionSecurityTests(RedisTestServer redis) : SessionSecurityConformanceTests, IClassFixture<RedisTestServer>
{
    private readonly string _prefix = RedisTestServer.NewPrefix();

    protected override ISessionStore CreateStore() => redis.CreateStore(o => o.KeyPrefix = _prefix);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await redis.DeletePrefixAsync(_prefix);
    }
}
