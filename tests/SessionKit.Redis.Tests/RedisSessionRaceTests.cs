namespace SessionKit.Tests;

/// <summary>The compound-operation races on one real Redis: two managers, each with its own store and connection (two nodes).</summary>
public sealed class RedisSessionRaceTests(RedisTestServer redis) : SessionRaceTests, IClassFixture<RedisTestServer>
{
    private readonly string _prefix = RedisTestServer.NewPrefix();

    protected override ISessionStore CreateStore() => redis.CreateStore(o => o.KeyPrefix = _prefix);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await redis.DeletePrefixAsync(_prefix);
    }
}
