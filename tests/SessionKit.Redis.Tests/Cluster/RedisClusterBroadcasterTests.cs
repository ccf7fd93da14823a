using SessionKit.Tests.Caching;

namespace SessionKit.Tests.Cluster;

/// <summary>The broadcaster across two nodes whose backplanes connect to a three-master cluster.</summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterBroadcasterTests(RedisClusterFixture cluster) : RedisBroadcasterTests<RedisClusterFixture>(cluster);
