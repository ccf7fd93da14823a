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
        return start == 0 ? Inner.GetAsync(id, now, cancellationToken) : TimedAsync(Inner.GetAsync(id, now, cancellationToken), start, "get");
    }

    public ValueTask<bool> CreateAsync(Session session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = metrics.StartTimestamp(time);
        return start == 0 ? Inner.CreateAsync(session, now, cancellationToken) : TimedAsync(Inner.CreateAsync(session, now, cancellationToken), start, "create");
    }

    public ValueTask<bool> TouchAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = metrics.StartTimestamp(time);
        return start == 0 ? Inner.TouchAsync(id, now, cancellationToken) : TimedAsync(Inner.TouchAsync(id, now, cancellationToken), start, "touch");
    }

    public ValueTask<SessionUpdateResult> UpdateAsync(string id, SessionChanges changes, DateTimeOffset now, long maxStateBytes, CancellationToken cancellationToken)
    {
        var start = metrics.StartTimestamp(time);
        return start == 0 ? Inner.UpdateAsync(id, changes, now, maxStateBytes, cancellationToken) : TimedAsync(Inner.UpdateAsync(id, changes, now, maxStateBytes, cancellationToken), start, "update");
    }

    public ValueTask<Session?> DeleteAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = metrics.StartTimestamp(time);
        return start == 0 ? Inner.DeleteAsync(id, now, cancellationToken) : TimedAsync(Inner.DeleteAsync(id, now, cancellationToken), start, "delete");
    }

    public ValueTask<bool> ExistsAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = metrics.StartTimestamp(time);
        return start == 0 ? Inner.ExistsAsync(id, now, cancellationToken) : TimedAsync(Inner.ExistsAsync(id, now, cancellationToken), start, "exists");
    }

    public ValueTask<SessionPage> QueryAsync(SessionQuery query, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = metrics.StartTimestamp(time);
        return start == 0 ? Inner.QueryAsync(query, now, cancellationToken) : TimedAsync(Inner.QueryAsync(query, now, cancellationToken), start, "query");
    }

    public ValueTask<IReadOnlyList<Session>> RemoveExpiredAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken)
    {
        var start = metrics.StartTimestamp(time);
        return start == 0 ? Inner.RemoveExpiredAsync(now, maxCount, cancellationToken) : TimedAsync(Inner.RemoveExpiredAsync(now, maxCount, cancellationToken), start, "remove_expired");
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
