using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionKit.Caching;
using SessionKit.Redis;
using SessionKit.Redis.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="RedisSessionBackplane"/> as the session backplane.</summary>
public static class RedisSessionBackplaneBuilderExtensions
{
    /// <summary>
    /// Uses Redis pub/sub as the session backplane and turns the node-local cache on (see <c>AddSessionCache</c>). With
    /// no connection source configured, the backplane shares the Redis store's multiplexer (one set of connections per node).
    /// </summary>
    /// <param name="builder">The SessionKit builder.</param>
    /// <returns>The builder.</returns>
    public static ISessionKitBuilder AddRedisBackplane(this ISessionKitBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<RedisSessionBackplaneOptions>().ValidateOnStart();
        services.AddOptions<RedisSessionBackplaneOptions>().PostConfigure<IServiceProvider, IOptions<RedisSessionStoreOptions>>(static (backplane, sp, store) =>
        {
            if (string.IsNullOrWhiteSpace(backplane.Configuration) && backplane.ConnectionMultiplexer is null && backplane.ConnectionMultiplexerFactory is null)
            {
                if (store.Value.ConnectionMultiplexer is { } shared)
                {
                    backplane.ConnectionMultiplexer = shared;
                }
                else if (!string.IsNullOrWhiteSpace(store.Value.Configuration) || store.Value.ConnectionMultiplexerFactory is not null)
                {
                    // One multiplexer per node: the store's, whichever way it gets it (the store keeps owning it).
                    backplane.ConnectionMultiplexerFactory = () => sp.GetRequiredService<RedisSessionStore>().GetMultiplexerAsync();
                }
            }
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisSessionBackplaneOptions>, RedisSessionBackplaneOptionsValidator>());
        services.TryAddSingleton(static sp => new RedisSessionBackplane(
            sp.GetRequiredService<IOptions<RedisSessionBackplaneOptions>>(),
            sp.GetService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()));
        services.Replace(ServiceDescriptor.Singleton<ISessionBackplane>(static sp => sp.GetRequiredService<RedisSessionBackplane>()));
        return builder.AddSessionCache();
    }

    /// <summary>Uses Redis pub/sub as the session backplane (see <see cref="AddRedisBackplane(ISessionKitBuilder)"/>), configured in code.</summary>
    /// <param name="builder">The SessionKit builder.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The builder.</returns>
    public static ISessionKitBuilder AddRedisBackplane(this ISessionKitBuilder builder, Action<RedisSessionBackplaneOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        builder.AddRedisBackplane();
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>Uses Redis pub/sub as the session backplane (see <see cref="AddRedisBackplane(ISessionKitBuilder)"/>), with options bound from configuration.</summary>
    /// <param name="builder">The SessionKit builder.</param>
    /// <param name="configuration">The section holding <see cref="RedisSessionBackplaneOptions"/> values.</param>
    /// <returns>The builder.</returns>
    public static ISessionKitBuilder AddRedisBackplane(this ISessionKitBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        builder.AddRedisBackplane();
        builder.Services.Configure<RedisSessionBackplaneOptions>(configuration);
        return builder;
    }
}
