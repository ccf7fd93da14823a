using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionKit;
using SessionKit.Redis;
using SessionKit.Redis.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Chooses <see cref="RedisSessionStore"/> on an <see cref="ISessionKitBuilder"/>.</summary>
public static class RedisSessionKitBuilderExtensions
{
    /// <summary>
    /// Uses <see cref="RedisSessionStore"/>: sessions shared by every node that points at the same Redis. Like every
    /// <c>Use*Store</c>, it replaces the store registered before. Options are validated at start.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Configures the options (for example <c>o =&gt; o.Configuration = "localhost:6379"</c>).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="configure"/> is null.</exception>
    public static ISessionKitBuilder UseRedisStore(this ISessionKitBuilder builder, Action<RedisSessionStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        AddRedisStore(builder.Services).Configure(configure);
        return builder;
    }

    /// <summary>Uses <see cref="RedisSessionStore"/> (see <see cref="UseRedisStore(ISessionKitBuilder, Action{RedisSessionStoreOptions})"/>) with options bound from configuration.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configuration">The section to bind, for example <c>configuration.GetSection("SessionKit:Redis")</c>.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="configuration"/> is null.</exception>
    public static ISessionKitBuilder UseRedisStore(this ISessionKitBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        AddRedisStore(builder.Services).Bind(configuration);
        return builder;
    }

    private static OptionsBuilder<RedisSessionStoreOptions> AddRedisStore(IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisSessionStoreOptions>, RedisSessionStoreOptionsValidator>());
        services.TryAddSingleton(static sp => new RedisSessionStore(sp.GetRequiredService<IOptions<RedisSessionStoreOptions>>(), sp.GetService<ILoggerFactory>()));
        services.Replace(ServiceDescriptor.Singleton<ISessionStore>(static sp => sp.GetRequiredService<RedisSessionStore>()));
        return services.AddOptions<RedisSessionStoreOptions>().ValidateOnStart();
    }
}
