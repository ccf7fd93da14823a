using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SessionKit.Caching;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds SessionKit's restore-on-miss features: the node-local cache, its backplane, live sessions and the broadcaster.</summary>
public static class SessionCacheBuilderExtensions
{
    /// <summary>
    /// Turns on the node-local snapshot cache (L1) with write-behind touches, kept coherent by the registered
    /// <see cref="ISessionBackplane"/> — <see cref="InProcessSessionBackplane"/> unless another one is registered (for
    /// example by <c>AddRedisBackplane()</c>). With the in-process backplane, only use it when one process writes the
    /// store. No effect in front of the in-memory store.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static ISessionKitBuilder AddSessionCache(this ISessionKitBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<SessionCacheOptions>().Configure(static o => o.Enabled = true).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SessionCacheOptions>, SessionCacheOptionsValidator>());
        services.TryAddSingleton<ISessionBackplane, InProcessSessionBackplane>();
        return builder;
    }

    /// <summary>Turns on the node-local cache (see <see cref="AddSessionCache(ISessionKitBuilder)"/>) and configures it in code.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The builder.</returns>
    public static ISessionKitBuilder AddSessionCache(this ISessionKitBuilder builder, Action<SessionCacheOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        builder.AddSessionCache();
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>Turns on the node-local cache (see <see cref="AddSessionCache(ISessionKitBuilder)"/>) with options bound from configuration.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configuration">The section to bind, for example <c>configuration.GetSection("SessionKit:Cache")</c>.</param>
    /// <returns>The builder.</returns>
    public static ISessionKitBuilder AddSessionCache(this ISessionKitBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        builder.AddSessionCache();
        builder.Services.AddOptions<SessionCacheOptions>().Bind(configuration);
        return builder;
    }

    /// <summary>Uses a backplane of the application's own (replacing the in-process default) and turns the cache on.</summary>
    /// <typeparam name="TBackplane">The backplane type, registered as a singleton.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static ISessionKitBuilder AddBackplane<TBackplane>(this ISessionKitBuilder builder)
        where TBackplane : class, ISessionBackplane
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TBackplane>();
        builder.Services.Replace(ServiceDescriptor.Singleton<ISessionBackplane>(static sp => sp.GetRequiredService<TBackplane>()));
        return builder.AddSessionCache();
    }
}
