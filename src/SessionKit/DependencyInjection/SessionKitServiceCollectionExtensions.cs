using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SessionKit;
using SessionKit.Internal;
using SessionKit.Stores;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers SessionKit in an <see cref="IServiceCollection"/>.</summary>
public static class SessionKitServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="ISessionManager"/> with the in-memory store, <see cref="TimeProvider.System"/> and a background
    /// cleanup hosted service. Every default is added with <c>TryAdd</c>, so earlier registrations win; options are
    /// validated at start.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder to choose a store and add features.</returns>
    public static ISessionKitBuilder AddSessions(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<SessionKitOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SessionKitOptions>, SessionKitOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ISessionStore, InMemorySessionStore>();
        services.TryAddSingleton<SessionManager>();
        services.TryAddSingleton<ISessionManager>(static sp => sp.GetRequiredService<SessionManager>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SessionCleanupHostedService>());
        return new SessionKitBuilder(services);
    }

    /// <summary>Adds SessionKit (see <see cref="AddSessions(IServiceCollection)"/>) and configures its options in code.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>A builder to choose a store and add features.</returns>
    public static ISessionKitBuilder AddSessions(this IServiceCollection services, Action<SessionKitOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var builder = services.AddSessions();
        services.Configure(configure);
        return builder;
    }

    /// <summary>Adds SessionKit (see <see cref="AddSessions(IServiceCollection)"/>) and binds its options from configuration.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section to bind, for example <c>configuration.GetSection("SessionKit")</c>.</param>
    /// <returns>A builder to choose a store and add features.</returns>
    public static ISessionKitBuilder AddSessions(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = services.AddSessions();
        services.AddOptions<SessionKitOptions>().Bind(configuration);
        return builder;
    }
}
