using SessionKit.Redis;

namespace SessionKit.Tests;

/// <summary>A Redis deployment tests build isolated stores on: a single server (<see cref="RedisTestServer"/>) or a cluster.</summary>
public interface IRedisTestTarget
{
    /// <summary>Gets a StackExchange.Redis configuration string for the deployment (admin commands allowed).</summary>
    string Configuration { get; }

    /// <summary>Creates a store with a fresh key prefix on the shared multiplexer.</summary>
    /// <param name="configure">Further option changes.</param>
    /// <returns>The store.</returns>
    RedisSessionStore CreateStore(Action<RedisSessionStoreOptions>? configure = null);

    /// <summary>Deletes every key under a prefix (a <c>SCAN MATCH</c> pattern: glob characters must be escaped).</summary>
    /// <param name="prefix">The prefix.</param>
    /// <returns>A task that completes when the keys are gone.</returns>
    Task DeletePrefixAsync(string prefix);
}
