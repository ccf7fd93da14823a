namespace SessionKit.Tests.Cluster;

/// <summary>The hijack matrix, rotation and resurrection races on a three-master Redis Cluster, unchanged.</summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterSessionSecurityTests(RedisClusterFixture cluster) : SessionSecurityConformanceTests
{
    private readonly string _prefix = RedisTestServer.NewPrefix();

    protected override ISessionStore CreateStore() => cluster.CreateStore(o => o.KeyPrefix = _prefix);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await cluster.DeletePrefixAsync(_prefix);
    }
}
