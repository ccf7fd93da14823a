using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SessionKit;
using SessionKit.Security;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds hijack-prevention guards and lifecycle handlers to SessionKit.</summary>
public static class SessionKitSecurityBuilderExtensions
{
    /// <summary>Binds sessions to the credential (API key, static bearer token) their creator presented; see <see cref="CredentialBindingGuard"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Sets the server key (at least 32 bytes) and any previous keys.</param>
    /// <returns>The builder.</returns>
    public static ISessionKitBuilder AddCredentialBinding(this ISessionKitBuilder builder, Action<CredentialBindingOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<CredentialBindingOptions>().Configure(configure)
            .Validate(static o => CredentialBindingGuard.Validate(o).Count == 0, "CredentialBindingOptions.Key and PreviousKeys must be at least 32 bytes.")
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ISessionGuard, CredentialBindingGuard>());
        return builder;
    }

    /// <summary>
    /// Encrypts every metadata and state value at rest with AES-256-GCM under a key ring (see
    /// <see cref="SessionEncryptionOptions"/>): each value is sealed on its own and bound to its session and key, and
    /// keys stay clear so per-key merges stay atomic. Values written before encryption was turned on still read.
    /// The options are validated with <see cref="SessionKitOptions"/> when the host starts.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Sets <see cref="SessionEncryptionOptions.KeyId"/>, <see cref="SessionEncryptionOptions.Key"/> and any previous keys.</param>
    /// <returns>The builder.</returns>
    public static ISessionKitBuilder AddStateEncryption(this ISessionKitBuilder builder, Action<SessionEncryptionOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<SessionKitOptions>().Configure(o => configure(o.Encryption ??= new SessionEncryptionOptions())).ValidateOnStart();
        return builder;
    }

    /// <summary>Binds sessions to the stable identity (issuer + subject) their creator authenticated as; see <see cref="IdentityBindingGuard"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static ISessionKitBuilder AddIdentityBinding(this ISessionKitBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ISessionGuard, IdentityBindingGuard>());
        return builder;
    }

    /// <summary>Binds sessions to their creator's network prefix and/or User-Agent; see <see cref="ClientBindingGuard"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Configures prefixes, what is bound and the mode; <see langword="null"/> for defaults (log-only).</param>
    /// <returns>The builder.</returns>
    public static ISessionKitBuilder AddClientBinding(this ISessionKitBuilder builder, Action<ClientBindingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<ClientBindingOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(static o => ClientBindingGuard.Validate(o).Count == 0, "ClientBindingOptions has an out-of-range prefix length or an undefined mode.").ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ISessionGuard, ClientBindingGuard>());
        return builder;
    }

    /// <summary>Registers a lifecycle handler that receives created, deleted, expired, rotated and rejected events.</summary>
    /// <typeparam name="THandler">The handler type (a singleton).</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static ISessionKitBuilder AddLifecycleHandler<THandler>(this ISessionKitBuilder builder)
        where THandler : class, ISessionLifecycleHandler
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ISessionLifecycleHandler, THandler>());
        return builder;
    }
}
