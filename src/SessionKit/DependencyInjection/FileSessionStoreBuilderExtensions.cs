using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionKit;
using SessionKit.Internal;
using SessionKit.Stores;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Chooses <see cref="FileSessionStore"/> on an <see cref="ISessionKitBuilder"/>.</summary>
public static class FileSessionStoreBuilderExtensions
{
    /// <summary>
    /// Uses <see cref="FileSessionStore"/>: durable sessions in a directory shared by every process on this machine that
    /// points at it. Like every <c>Use*Store</c>, it replaces the store registered before. Options are validated at start.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Configures the options; <see cref="FileSessionStoreOptions.Directory"/> is required.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="configure"/> is null.</exception>
    public static ISessionKitBuilder UseFileStore(this ISessionKitBuilder builder, Action<FileSessionStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        AddFileStore(builder.Services).Configure(configure);
        return builder;
    }

    /// <summary>Uses <see cref="FileSessionStore"/> (see <see cref="UseFileStore(ISessionKitBuilder, Action{FileSessionStoreOptions})"/>) with options bound from configuration.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configuration">The section to bind, for example <c>configuration.GetSection("SessionKit:FileStore")</c>.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="configuration"/> is null.</exception>
    public static ISessionKitBuilder UseFileStore(this ISessionKitBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        AddFileStore(builder.Services).Bind(configuration);
        return builder;
    }

    private static OptionsBuilder<FileSessionStoreOptions> AddFileStore(IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FileSessionStoreOptions>, FileSessionStoreOptionsValidator>());
        services.Replace(ServiceDescriptor.Singleton<ISessionStore>(static sp =>
            new FileSessionStore(sp.GetRequiredService<IOptions<FileSessionStoreOptions>>(), sp.GetService<ILoggerFactory>())));
        return services.AddOptions<FileSessionStoreOptions>().ValidateOnStart();
    }
}
