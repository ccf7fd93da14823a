namespace SessionKit.Internal;

/// <summary>
/// The store as the manager and its caching component see it: every call is timed into
/// <c>sessionkit.store.duration</c> when that histogram has listeners, and handed straight through when it has none.
/// </summary>
internal sealed class TimedSessionStore(ISessionStore store, SessionKitMetrics metrics, TimeProvider time)
{
    public ISessionStore Inner { get; } = store;

    public string Name => Inner.Name;

    public ValueTask<Session?> GetAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = metrics.StartTimestamp(time);
        var pending = Inner.GetAsync(id, now, cancellationToken);
        return start == 0 ? pending : TimedAsync(pending, start, "get");
    }

    public ValueTask<bool> CreateAsync(Session session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = metrics.StartTimestamp(time);
        var pending = Inner.CreateAsync(session, now, cancellationToken);
        return start == 0 ? pending : TimedAsync(pending, start, "create");
    }

    public ValueTask<bool> TouchAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = metrics.StartTimestamp(time);
        var pending = Inner.TouchAsync(id, now, cancellationToken);
        return start == 0 ? pending : TimedAsync(pending, start, "touch");
    }

    public ValueTask<SessionUpdateResult> UpdateAsync(string id, SessionChanges changes, DateTimeOffset now, long maxStateBytes, CancellationToken cancellationToken)
    {
        var start = metrics.StartTimestamp(time);
        var pending = Inner.UpdateAsync(id, changes, now, maxStateBytes, cancellationToken);
        return start == 0 ? pending : TimedAsync(pending, start, "update");
    }

    public ValueTask<bool> DeleteAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = metrics.StartTimestamp(time);
        var pending = Inner.DeleteAsync(id, now, cancellationToken);
        return start == 0 ? pending : TimedAsync(pending, start, "delete");
    }

    public ValueTask<bool> ExistsAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = metrics.StartTimestamp(time);
        var pending = Inner.ExistsAsync(id, now, cancellationToken);
        return start == 0 ? pending : TimedAsync(pending, start, "exists");
    }

    public ValueTask<SessionPage> QueryAsync(SessionQuery query, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = metrics.StartTimestamp(time);
        var pending = Inner.QueryAsync(query, now, cancellationToken);
        return start == 0 ? pending : TimedAsync(pending, start, "query");
    }

    public ValueTask<IReadOnlyList<Session>> RemoveExpiredAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken)
    {
        var start = metrics.StartTimestamp(time);
        var pending = Inner.RemoveExpiredAsync(now, maxCount, cancellationToken);
        return start == 0 ? pending : TimedAsync(pending, start, "remove_expired");
    }

    private async ValueTask<T> TimedAsync<T>(ValueTask<T> pending, long started, string operation)
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        finally
        {
            metrics.RecordStoreDuration(time, started, Inner.Name, operation);
        }
    }
}
