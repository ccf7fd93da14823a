using Microsoft.Extensions.Options;
using SessionKit.Redis;
using StackExchange.Redis;

namespace SessionKit.Caching.Benchmarks;

/// <summary>
/// One application node on the shared redis-server, as <c>UseRedisStore</c> + <c>AddRedisBackplane</c> wire it: one
/// multiplexer shared by the store and the backplane, and a manager with the L1 on (or off, for the uncached baseline).
/// </summary>
internal sealed class RevocationNode : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _multiplexer;
    private readonly RedisSessionStore _store;
    private readonly RedisSessionBackplane? _backplane;

    private RevocationNode(ConnectionMultiplexer multiplexer, RedisSessionStore store, RedisSessionBackplane? backplane, SessionManager manager, NodeMeters meters)
    {
        _multiplexer = multiplexer;
        _store = store;
        _backplane = backplane;
        Manager = manager;
        Meters = meters;
    }

    public SessionManager Manager { get; }

    public NodeMeters Meters { get; }

    /// <summary>Starts a node; <paramref name="strict"/> <see langword="null"/> means no L1 and no backplane.</summary>
    public static async Task<RevocationNode> StartAsync(string configuration, string prefix, bool? strict)
    {
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration);
        var store = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { ConnectionMultiplexer = multiplexer, KeyPrefix = prefix }));
        var meters = new NodeMeters();
        RedisSessionBackplane? backplane = null;
        var options = new SessionKitOptions { EnableBackgroundCleanup = false };
        if (strict is { } isStrict)
        {
            backplane = new RedisSessionBackplane(Options.Create(new RedisSessionBackplaneOptions { ConnectionMultiplexer = multiplexer, Channel = prefix + "backplane" }));
            options.Cache = new SessionCacheOptions { Enabled = true, StrictRevocation = isStrict };
            var deadline = Environment.TickCount64 + 10_000;
            while (!backplane.IsConnected)
            {
                await Task.Delay(10);
                if (Environment.TickCount64 > deadline)
                {
                    throw new InvalidOperationException("The backplane did not connect.");
                }
            }
        }

        var manager = new SessionManager(store, Options.Create(options), meterFactory: meters, backplane: backplane);
        return new RevocationNode(multiplexer, store, backplane, manager, meters);
    }

    public async ValueTask DisposeAsync()
    {
        await Manager.DisposeAsync();
        if (_backplane is not null)
        {
            await _backplane.DisposeAsync();
        }

        await _store.DisposeAsync();
        await _multiplexer.DisposeAsync();
        Meters.Dispose();
    }
}
