namespace SessionKit.Tests.Cluster;

/// <summary>
/// The test classes that share one <see cref="RedisClusterFixture"/>: one cluster (three processes) for all of them,
/// and their tests run one class at a time, so a reshard never overlaps another class's assertions.
/// </summary>
[CollectionDefinition(Name)]
public sealed class RedisClusterGroup : ICollectionFixture<RedisClusterFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Redis Cluster";
}
