namespace SessionKit;

public sealed partial class SessionManager
{
    private ValueTask RaiseAsync(SessionEventKind kind, Session session, DateTimeOffset now) =>
        _lifecycleHandlers.Length == 0
            ? ValueTask.CompletedTask
            : RaiseAsync(new SessionEvent { Kind = kind, SessionId = session.Id, UserId = session.UserId, Timestamp = now });

    /// <summary>Delivers an event to every handler. A handler's exception is logged and never reaches the caller.</summary>
    private async ValueTask RaiseAsync(SessionEvent sessionEvent)
    {
        foreach (var handler in _lifecycleHandlers)
        {
            try
            {
                // The manager's token, not the caller's: an event must not be lost because a request ended.
                await handler.HandleAsync(sessionEvent, _disposing.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Log.LifecycleHandlerFailed(_logger, handler.GetType().Name, sessionEvent.Kind, ex);
            }
        }
    }
}
