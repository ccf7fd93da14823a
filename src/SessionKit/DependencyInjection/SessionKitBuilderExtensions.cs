using Microsoft.Extensions.DependencyInjection.Extensions;
using SessionKit;
using SessionKit.Stores;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Chooses SessionKit's built-in in-memory store on an <see cref="ISessionKitBuilder"/>.</summary>
public static class SessionKitBuilderExtensions
{
    /// <summary>Uses <see cref="InMemorySessionStore"/> (the default). Like every <c>Use*Store</c>, it replaces the store registered before.</summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static ISessionKitBuilder UseInMemoryStore(this ISessionKitBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Singleton<ISessionStore, InMemorySessionStore>());
        return builder;
    }
}
