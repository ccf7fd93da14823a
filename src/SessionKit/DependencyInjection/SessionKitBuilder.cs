namespace Microsoft.Extensions.DependencyInjection;

internal sealed class SessionKitBuilder(IServiceCollection services) : ISessionKitBuilder
{
    public IServiceCollection Services { get; } = services;
}
