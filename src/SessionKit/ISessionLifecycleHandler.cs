namespace SessionKit;

/// <summary>
/// Receives session lifecycle events (created, deleted, expired, rotated, rejected). Register implementations in DI;
/// the manager awaits each handler after the operation, logs a handler's exception and never propagates it.
/// </summary>
public interface ISessionLifecycleHandler
{
    /// <summary>Handles one event. Keep it fast: it runs on the caller's path (expiry events run on the cleanup path).</summary>
    /// <param name="sessionEvent">The event.</param>
    /// <param name="cancellationToken">A token cancelled when the manager is disposed (never the caller's request token).</param>
    /// <returns>A task that completes when the event is handled.</returns>
    ValueTask HandleAsync(SessionEvent sessionEvent, CancellationToken cancellationToken);
}
