namespace SessionKit.Tests;

/// <summary>
/// Whether the shared <see cref="RedisServerFixture"/> may run its server in a container (the
/// <c>SESSIONKIT_TEST_REDIS_CONTAINER</c> environment variable: <c>never</c>, <c>auto</c> or <c>required</c>).
/// </summary>
public enum RedisContainerMode
{
    /// <summary>Never: a local <c>redis-server</c> (or <c>SESSIONKIT_TEST_REDIS</c>).</summary>
    Never,

    /// <summary>A container when a Docker-compatible endpoint answers, else a local <c>redis-server</c> (the default).</summary>
    Auto,

    /// <summary>A container, or the fixture fails: for CI legs that must prove the container path.</summary>
    Required,
}
