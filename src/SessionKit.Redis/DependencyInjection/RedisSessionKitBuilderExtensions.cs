using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionKit;
using SessionKit.Redis;
using SessionKit.Redis.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="RedisSessionStore"/> as the session store.</summary>
public static class RedisSessionKitBuilderExtensions
{
    /// <summary>Uses Redis as the session store, replacing any store registered before (the last <c>Use*Store</c> wins).</summary>
    /// <param name="builder">The SessionKit builder.</param>
    /// <param name="configure">Configures the options (for example <c>o =&gt; o.Configuration = "localhost:6379"</c>).</param>
    /// <returns>The builder.</returns>
    public static ISessionKitBuilder UseRedisStore(this ISessionKitBuilder builder, Action<RedisSessionStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        builder.UseRedisStore();
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>Uses Redis as the session store, with options bound from a configuration section (for example <c>SessionKit:Redis</c>).</summary>
    /// <param name="builder">The SessionKit builder.</param>
    /// <param name="configuration">The section holding <see cref="RedisSessionStoreOptions"/> values.</param>
    /// <returns>The builder.</returns>
    public static ISessionKitBuilder UseRedisStore(this ISessionKitBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        builder.UseRedisStore();
        builder.Services.Configure<RedisSessionStoreOptions>(configuration);
        return builder;
    }

    /// <summary>Uses Redis as the session store; configure <see cref="RedisSessionStoreOptions"/> separately.</summary>
    /// <param name="builder">The SessionKit builder.</param>
    /// <returns>The builder.</returns>
    public static ISessionKitBuilder UseRedisStore(this ISessionKitBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<RedisSessionStoreOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisSessionStoreOptions>, RedisSessionStoreOptionsValidator>());
        services.TryAddSingleton(static sp => new RedisSessionStore(
            sp.GetRequiredService<IOptions<RedisSessionStoreOptions>>(),
            sp.GetService<ILoggerFactory>()));
        services.RemoveAll<ISessionStore>();
        services.AddSingleton<ISessionStore>(static sp => sp.GetRequiredService<RedisSessionStore>());
        return builder;
    }
}
