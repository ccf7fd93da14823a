namespace SessionKit.Tests.Cluster;

/// <summary>The whole store conformance suite on a three-master Redis Cluster, unchanged, each test under its own key prefix.</summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterSessionStoreConformanceTests(RedisClusterFixture cluster) : RedisSessionStoreConformanceTests<RedisClusterFixture>(cluster);
