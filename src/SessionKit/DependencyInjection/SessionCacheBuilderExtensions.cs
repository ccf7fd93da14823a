using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SessionKit;
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
        services.AddOptions<SessionKitOptions>().Configure(static o => o.Cache.Enabled = true);
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
        builder.Services.Configure<SessionKitOptions>(o => configure(o.Cache));
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
        builder.Services.AddOptions<SessionKitOptions>().Configure(o => configuration.Bind(o.Cache));
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

    /// <summary>
    /// Adds live sessions: an <see cref="ILiveSessionCache{T}"/> that rebuilds <typeparamref name="T"/> from the stored
    /// session with <typeparamref name="TActivator"/> on a miss (after a restart or on another node), keeps at most
    /// <see cref="LiveSessionOptions.Capacity"/> per node and disposes each on eviction, delete, rotation or expiry.
    /// </summary>
    /// <typeparam name="T">The live object's type.</typeparam>
    /// <typeparam name="TActivator">Builds the live object, registered as a singleton.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Configures the options; <see langword="null"/> for defaults.</param>
    /// <returns>The builder.</returns>
    public static ISessionKitBuilder AddLiveSessions<T, TActivator>(this ISessionKitBuilder builder, Action<LiveSessionOptions>? configure = null)
        where T : class
        where TActivator : class, ISessionActivator<T>
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var name = typeof(T).FullName ?? typeof(T).Name;
        var options = services.AddOptions<LiveSessionOptions>(name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton<ISessionActivator<T>, TActivator>();
        services.TryAddSingleton(sp => new LiveSessionCache<T>(
            sp.GetRequiredService<ISessionManager>(),
            sp.GetRequiredService<SessionManager>().Caching,
            sp.GetRequiredService<ISessionActivator<T>>(),
            Options.Options.Create(sp.GetRequiredService<IOptionsMonitor<LiveSessionOptions>>().Get(name))));
        services.TryAddSingleton<ILiveSessionCache<T>>(static sp => sp.GetRequiredService<LiveSessionCache<T>>());
        return builder;
    }

    /// <summary>
    /// Adds <see cref="ISessionBroadcaster"/>: application notifications to one session's subscribers or to every
    /// session, across nodes over the registered <see cref="ISessionBackplane"/> (in-process unless, for example,
    /// <c>AddRedisBackplane()</c> registered another).
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Configures the options; <see langword="null"/> for defaults.</param>
    /// <returns>The builder.</returns>
    public static ISessionKitBuilder AddSessionBroadcaster(this ISessionKitBuilder builder, Action<SessionBroadcasterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<SessionBroadcasterOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton<ISessionBackplane, InProcessSessionBackplane>();
        services.TryAddSingleton(static sp => new SessionBroadcaster(
            sp.GetRequiredService<ISessionBackplane>(),
            sp.GetRequiredService<IOptions<SessionBroadcasterOptions>>(),
            sp.GetService<Microsoft.Extensions.Logging.ILoggerFactory>(),
            sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton<ISessionBroadcaster>(static sp => sp.GetRequiredService<SessionBroadcaster>());
        return builder;
    }
}
