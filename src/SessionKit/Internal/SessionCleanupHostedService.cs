using Microsoft.Extensions.Hosting;

namespace SessionKit.Internal;

/// <summary>
/// Ties the manager's background cleanup to the host's lifetime: resolving the manager at start starts its
/// <see cref="TimeProvider"/> timer (even before the first request), and stopping the host stops the sweep.
/// </summary>
internal sealed class SessionCleanupHostedService(SessionManager manager) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => manager.StopBackgroundCleanupAsync().WaitAsync(cancellationToken);
}
