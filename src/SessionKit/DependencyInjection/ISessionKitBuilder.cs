namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Configures SessionKit services; returned by <c>AddSessions</c> so stores and features chain from it.</summary>
public interface ISessionKitBuilder
{
    /// <summary>Gets the service collection SessionKit is registered in.</summary>
    IServiceCollection Services { get; }
}
