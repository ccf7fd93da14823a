namespace SessionKit;

// Every store access of the manager goes through these methods: they time the operation, and they are the one
// place where a node-local cache or a cross-node backplane plugs in (reads through LoadAsync; every write reports
// what it changed).
public sealed partial class SessionManager
{
    private ValueTask<Session?> LoadAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = _metrics.StartTimestamp(_time);
        if (start == 0)
        {
            // Nobody listens to the duration histogram: hand the store's value task straight through.
            return _store.GetAsync(id, now, cancellationToken);
        }

        return TimedAsync(_store.GetAsync(id, now, cancellationToken), start);

        async ValueTask<Session?> TimedAsync(ValueTask<Session?> pending, long started)
        {
            var session = await pending.ConfigureAwait(false);
            _metrics.RecordStoreDuration(_time, started, _store.Name, "get");
            return session;
        }
    }

    private async ValueTask<bool> CreateCoreAsync(Session session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = _metrics.StartTimestamp(_time);
        var created = await _store.CreateAsync(session, now, cancellationToken).ConfigureAwait(false);
        _metrics.RecordStoreDuration(_time, start, _store.Name, "create");
        return created;
    }

    private async ValueTask<bool> TouchCoreAsync(Session session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = _metrics.StartTimestamp(_time);
        var touched = await _store.TouchAsync(session.Id, now, cancellationToken).ConfigureAwait(false);
        _metrics.RecordStoreDuration(_time, start, _store.Name, "touch");
        return touched;
    }

    private async ValueTask<SessionUpdateResult> UpdateCoreAsync(string id, SessionChanges changes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = _metrics.StartTimestamp(_time);
        var result = await _store.UpdateAsync(id, changes, now, _options.MaxStateBytes, cancellationToken).ConfigureAwait(false);
        _metrics.RecordStoreDuration(_time, start, _store.Name, "update");
        return result;
    }

    private async ValueTask<bool> DeleteCoreAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = _metrics.StartTimestamp(_time);
        var deleted = await _store.DeleteAsync(id, now, cancellationToken).ConfigureAwait(false);
        _metrics.RecordStoreDuration(_time, start, _store.Name, "delete");
        return deleted;
    }

    private async ValueTask<SessionPage> QueryCoreAsync(SessionQuery query, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = _metrics.StartTimestamp(_time);
        var page = await _store.QueryAsync(query, now, cancellationToken).ConfigureAwait(false);
        _metrics.RecordStoreDuration(_time, start, _store.Name, "query");
        return page;
    }

    private async ValueTask<IReadOnlyList<Session>> RemoveExpiredCoreAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = _metrics.StartTimestamp(_time);
        var removed = await _store.RemoveExpiredAsync(now, _options.CleanupBatchSize, cancellationToken).ConfigureAwait(false);
        _metrics.RecordStoreDuration(_time, start, _store.Name, "remove_expired");
        return removed;
    }
}
