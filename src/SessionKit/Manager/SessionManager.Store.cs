namespace SessionKit;

// Every store write of the manager goes through these methods: they are where the restore-on-miss component hears
// what changed (it caches, drops and announces, locally and to the other nodes). Reads go through _caching.LoadAsync.
public sealed partial class SessionManager
{
    private async ValueTask<bool> CreateCoreAsync(Session session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var created = await _store.CreateAsync(session, now, cancellationToken).ConfigureAwait(false);
        if (created)
        {
            _caching.Created(session, now);
        }

        return created;
    }

    private async ValueTask<SessionUpdateResult> UpdateCoreAsync(string id, SessionChanges changes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var result = await _store.UpdateAsync(id, changes, now, _options.MaxStateBytes, cancellationToken).ConfigureAwait(false);

        // Retiring an id into a rotation forwarder ends the old id for live objects on every node.
        await _caching.UpdatedAsync(id, result, now, rotated: result.Session is { } updated && updated.IsForwarder).ConfigureAwait(false);
        return result;
    }

    private async ValueTask<Session?> DeleteCoreAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var removed = await _store.DeleteAsync(id, now, cancellationToken).ConfigureAwait(false);
        _recentReads?.Forget(id);
        await _caching.DeletedAsync(id, removed is not null).ConfigureAwait(false);
        return removed;
    }

    private async ValueTask<IReadOnlyList<Session>> RemoveExpiredCoreAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var removed = await _store.RemoveExpiredAsync(now, _options.CleanupBatchSize, cancellationToken).ConfigureAwait(false);
        await _caching.ExpiredAsync(removed).ConfigureAwait(false);
        return removed;
    }
}
