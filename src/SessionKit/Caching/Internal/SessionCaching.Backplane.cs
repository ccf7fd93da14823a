namespace SessionKit.Caching;

// The backplane wiring: what this node announces (locally on the change feed, and to other nodes unless the change
// was theirs), and what it does with other nodes' invalidations and with the backplane's connection state.
internal sealed partial class SessionCaching
{
    private ValueTask AnnounceAsync(string id, SessionBackplaneAction action, long version, bool publish)
    {
        if (action is not SessionBackplaneAction.Updated)
        {
            _cache?.Invalidate(id, long.MaxValue, terminal: true);
            DropPendingTouch(id, upTo: DateTimeOffset.MaxValue);
        }

        var feed = Changed;
        var backplane = publish ? _backplane : null;
        if (feed is null && backplane is null)
        {
            return ValueTask.CompletedTask;
        }

        var message = new SessionBackplaneMessage { SourceId = NodeId, Action = action, SessionId = id, Version = version };
        RaiseChanged(feed, message);
        return backplane is null ? ValueTask.CompletedTask : PublishAsync(backplane, message);
    }

    private async ValueTask PublishAsync(ISessionBackplane backplane, SessionBackplaneMessage message)
    {
        try
        {
            // Not the caller's token: the store write is done, and the other nodes must hear about it regardless.
            await backplane.PublishAsync(message, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.PublishFailed(_logger, message.Action, ex);
        }
    }

    private void RaiseChanged(Action<SessionBackplaneMessage>? feed, SessionBackplaneMessage message)
    {
        if (feed is null)
        {
            return;
        }

        foreach (var handler in feed.GetInvocationList())
        {
            try
            {
                ((Action<SessionBackplaneMessage>)handler)(message);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.ChangeHandlerFailed(_logger, message.Action, ex);
            }
        }
    }

    private void OnBackplaneMessage(SessionBackplaneMessage message)
    {
        if (message.Action == SessionBackplaneAction.Notification || message.SessionId is not { } id
            || string.Equals(message.SourceId, NodeId, StringComparison.Ordinal))
        {
            return;
        }

        _metrics.CacheInvalidations.Add(1);
        _cache?.Invalidate(id, message.Version, message.IsTerminal);
        if (message.IsTerminal)
        {
            DropPendingTouch(id, upTo: DateTimeOffset.MaxValue);
        }

        RaiseChanged(Changed, message);
    }

    private void OnBackplaneConnectionChanged(bool connected)
    {
        // Flushed both ways: on loss (messages may be missed from now on) and on return (they may have been missed).
        _cache?.Flush(connected);
        if (connected)
        {
            Log.BackplaneConnected(_logger);
        }
        else
        {
            Log.BackplaneDisconnected(_logger, _options?.DisconnectedEntryDuration.TotalSeconds ?? 0);
        }
    }

    private sealed class BackplaneSubscriber(SessionCaching caching) : ISessionBackplaneSubscriber
    {
        public void OnMessage(SessionBackplaneMessage message) => caching.OnBackplaneMessage(message);

        public void OnConnectionChanged(bool connected) => caching.OnBackplaneConnectionChanged(connected);
    }
}
