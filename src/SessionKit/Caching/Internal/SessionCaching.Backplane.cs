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
        if (backplane is null)
        {
            return ValueTask.CompletedTask;
        }

        // A delete, rotation or termination is strict: the caller returns only once no node can serve the old
        // session. An expiry needs no wait (every node's copy is past its expiry too), an update is eventual.
        return _strict && action is SessionBackplaneAction.Deleted or SessionBackplaneAction.Rotated
            ? RevokeAsync(backplane, message)
            : PublishAsync(backplane, message);
    }

    private async ValueTask RevokeAsync(ISessionBackplane backplane, SessionBackplaneMessage message)
    {
        var start = _time.GetTimestamp();
        try
        {
            // Not the caller's token either: giving up early would return while other nodes may still serve it.
            await backplane.RevokeAsync(message, CancellationToken.None).ConfigureAwait(false);
        }
        catch (SessionBackplaneException ex)
        {
            Log.RevokeFailed(_logger, message.Action, ex);
            throw new SessionBackplaneException(
                $"The session was {(message.Action == SessionBackplaneAction.Deleted ? "deleted" : "rotated")} in the store, but the revocation could not be published: "
                + "other nodes may serve their cached copy until their cache entry lapses (SessionCacheOptions.EntryDuration).",
                ex);
        }
        finally
        {
            _metrics.RevocationDuration.Record(_time.GetElapsedTime(start).TotalSeconds);
        }
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
