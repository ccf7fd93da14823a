using SessionKit.Redis;
using StackExchange.Redis;

namespace SessionKit.Tests;

/// <summary>
/// A test class fixture: a real Redis server (see <see cref="RedisServerFixture"/>: <c>SESSIONKIT_TEST_REDIS</c>, else
/// a container through <see cref="TestcontainersRedisLauncher"/>, else a local <c>redis-server</c>) and one shared
/// multiplexer, from which each test builds stores isolated by a unique key prefix.
/// </summary>
public class RedisTestServer : IAsyncLifetime, IRedisTestTarget
{
    private IConnectionMultiplexer? _multiplexer;
    private RedisServerFixture? _server;

    /// <summary>Gets the server.</summary>
    public RedisServerFixture Server => _server ?? throw new InvalidOperationException("Not initialized.");

    /// <summary>Gets the shared multiplexer (admin commands allowed).</summary>
    public IConnectionMultiplexer Multiplexer => _multiplexer ?? throw new InvalidOperationException("Not initialized.");

    /// <summary>Gets a StackExchange.Redis configuration string for the server.</summary>
    public virtual string Configuration => ConfigurationFor(Server);

    /// <summary>The environment variable that, set to <c>resp3</c>, makes every test multiplexer speak RESP3 (a CI leg sets it).</summary>
    public const string ProtocolVariable = "SESSIONKIT_TEST_REDIS_PROTOCOL";

    /// <summary>
    /// Builds a configuration string for a server: loopback, admin commands allowed, short connect timeout, and
    /// <c>protocol=resp3</c> when <see cref="ProtocolVariable"/> is <c>resp3</c>.
    /// </summary>
    /// <param name="server">The server.</param>
    /// <returns>The configuration string.</returns>
    public static string ConfigurationFor(RedisServerFixture server) => ConfigurationFor(server.EndPoint);

    /// <summary>Builds a configuration string, as <see cref="ConfigurationFor(RedisServerFixture)"/> does, for comma-separated endpoints.</summary>
    /// <param name="endPoints">The endpoints (<c>host:port,host:port</c>).</param>
    /// <returns>The configuration string.</returns>
    public static string ConfigurationFor(string endPoints) =>
        $"{endPoints},allowAdmin=true,abortConnect=false,connectTimeout=2000,syncTimeout=5000"
        + (string.Equals(Environment.GetEnvironmentVariable(ProtocolVariable), "resp3", StringComparison.OrdinalIgnoreCase) ? ",protocol=resp3" : string.Empty);

    /// <summary>Creates a store with a fresh key prefix on the shared multiplexer.</summary>
    /// <param name="configure">Further option changes.</param>
    /// <returns>The store.</returns>
    public RedisSessionStore CreateStore(Action<RedisSessionStoreOptions>? configure = null)
    {
        var options = new RedisSessionStoreOptions
        {
            ConnectionMultiplexer = Multiplexer,
            KeyPrefix = NewPrefix(),
        };
        configure?.Invoke(options);
        return new RedisSessionStore(Microsoft.Extensions.Options.Options.Create(options));
    }

    /// <summary>Creates a unique key prefix.</summary>
    /// <returns>The prefix.</returns>
    public static string NewPrefix() => "sktest:" + Guid.NewGuid().ToString("N")[..12] + ":";

    /// <summary>Deletes every key under a prefix (keeps an external server tidy).</summary>
    /// <param name="prefix">The prefix.</param>
    /// <returns>A task that completes when the keys are gone.</returns>
    public async Task DeletePrefixAsync(string prefix)
    {
        var database = Multiplexer.GetDatabase();
        var cursor = "0";
        for (var i = 0; i < 10_000; i++)
        {
            var reply = (RedisResult[])(await database.ExecuteAsync("SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"))!;
            cursor = (string)reply[0]!;
            foreach (var key in (RedisKey[])reply[1]!)
            {
                await database.KeyDeleteAsync(key);
            }

            if (cursor == "0")
            {
                return;
            }
        }
    }

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _server = await StartServerAsync();
        _multiplexer = await ConnectionMultiplexer.ConnectAsync(Configuration);
    }

    /// <summary>Starts the server: by default <c>SESSIONKIT_TEST_REDIS</c>, a container or a local server, in that order.</summary>
    /// <returns>The running server.</returns>
    protected virtual async Task<RedisServerFixture> StartServerAsync()
    {
        var server = new RedisServerFixture(TestcontainersRedisLauncher.Instance);
        await server.InitializeAsync();
        return server;
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_multiplexer is not null)
        {
            await _multiplexer.CloseAsync(allowCommandsToComplete: false);
            _multiplexer.Dispose();
        }

        await Server.DisposeAsync();
    }
}

/// <summary>A local Redis test server this test class owns alone (never the external one nor a container), for command counts and stop/restart tests.</summary>
public sealed class PrivateRedisTestServer : RedisTestServer
{
    /// <inheritdoc />
    protected override Task<RedisServerFixture> StartServerAsync() => RedisServerFixture.StartPrivateAsync();
}

/// <summary>The shared Redis test server, with the shared multiplexer speaking RESP3 (as StackExchange.Redis 3.x may by default).</summary>
public sealed class Resp3RedisTestServer : RedisTestServer
{
    /// <inheritdoc />
    public override string Configuration => base.Configuration.EndsWith(",protocol=resp3", StringComparison.Ordinal) ? base.Configuration : base.Configuration + ",protocol=resp3";
}
