namespace SessionKit.Tests;

/// <summary>Where a <see cref="RedisServerFixture"/>'s server runs.</summary>
public enum RedisServerKind
{
    /// <summary>A <c>redis-server</c> process the fixture started and can stop, restart, pause and resume.</summary>
    Local,

    /// <summary>The server named by <c>SESSIONKIT_TEST_REDIS</c>, which tests cannot stop.</summary>
    External,

    /// <summary>A container the fixture started through an <see cref="IRedisContainerLauncher"/>, which tests cannot stop.</summary>
    Container,
}
