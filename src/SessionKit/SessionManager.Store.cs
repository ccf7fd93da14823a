using SessionKit.Caching;

namespace SessionKit;

// Every store access of the manager goes through these methods: they time the operation, and they are the one
// place where the node-local cache and the cross-node backplane plug in (reads through LoadAsync; every write
// reports what it changed, locally and to the other nodes).
public sealed partial class SessionManager
{
    private ValueTask<Session?> LoadAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_cache is { } cache)
        {
            if (cache.TryGet(id, now, out var cached))
            {
                // The L1 hit: no allocation, no await.
                _metrics.CacheHits.Add(1);
                return new(WithPendingTouch(id, cached));
            }

            return LoadThroughCacheAsync(cache, id, now, cancellationToken);
        }

        return LoadFromStoreAsync(id, now, cancellationToken);
    }

    private async ValueTask<Session?> LoadThroughCacheAsync(SessionSnapshotCache cache, string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        _metrics.CacheMisses.Add(1);

        // One load per id on this node; it runs under the manager's token, each caller waits under its own.
        var load = cache.GetOrLoadAsync(id, now, static (manager, i, n, t) => manager.LoadFromStoreAsync(i, n, t), this, _cacheToken);
        var session = await load.WaitAsync(cancellationToken).ConfigureAwait(false);
        return session is not null && session.IsLiveAt(now) ? WithPendingTouch(id, session) : null;
    }

    private ValueTask<Session?> LoadFromStoreAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
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
        if (created)
        {
            _cache?.Put(session, now);
        }

        return created;
    }

    private ValueTask<bool> TouchCoreAsync(Session session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_pendingTouches is not null)
        {
            // Write-behind: the slide is recorded and persisted in the background (after N accesses or M seconds).
            DeferTouch(session.Id, now);
            return new(true);
        }

        return TouchStoreAsync(session.Id, now, cancellationToken);
    }

    private async ValueTask<bool> TouchStoreAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = _metrics.StartTimestamp(_time);
        var touched = await _store.TouchAsync(id, now, cancellationToken).ConfigureAwait(false);
        _metrics.RecordStoreDuration(_time, start, _store.Name, "touch");
        if (_cache is { } cache)
        {
            if (touched)
            {
                cache.Touched(id, now);
            }
            else
            {
                cache.Invalidate(id, long.MaxValue, terminal: true);
            }
        }

        return touched;
    }

    private async ValueTask<SessionUpdateResult> UpdateCoreAsync(string id, SessionChanges changes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = _metrics.StartTimestamp(_time);
        var result = await _store.UpdateAsync(id, changes, now, _options.MaxStateBytes, cancellationToken).ConfigureAwait(false);
        _metrics.RecordStoreDuration(_time, start, _store.Name, "update");
        switch (result.Status)
        {
            case SessionUpdateStatus.Updated when result.Session is { } updated:
                _cache?.Put(updated, now);
                DropPendingTouch(id, upTo: now);
                // Retiring an id into a rotation forwarder ends the old id for live objects on every node.
                await AnnounceAsync(id, IsForwarder(updated) ? SessionBackplaneAction.Rotated : SessionBackplaneAction.Updated, updated.Version, publish: true).ConfigureAwait(false);
                break;
            case SessionUpdateStatus.NotFound:
                _cache?.Invalidate(id, long.MaxValue, terminal: true);
                break;
            case SessionUpdateStatus.Conflict when result.CurrentVersion is { } current:
                _cache?.Invalidate(id, current, terminal: false);
                break;
        }

        return result;
    }

    private async ValueTask<bool> DeleteCoreAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = _metrics.StartTimestamp(_time);
        var deleted = await _store.DeleteAsync(id, now, cancellationToken).ConfigureAwait(false);
        _metrics.RecordStoreDuration(_time, start, _store.Name, "delete");
        await AnnounceAsync(id, SessionBackplaneAction.Deleted, long.MaxValue, publish: deleted).ConfigureAwait(false);
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
        if (removed.Count > 0 && (_cache is not null || _backplane is not null || SessionChanged is not null))
        {
            var announcements = new Task[removed.Count];
            for (var i = 0; i < removed.Count; i++)
            {
                announcements[i] = AnnounceAsync(removed[i].Id, SessionBackplaneAction.Expired, long.MaxValue, publish: true).AsTask();
            }

            await Task.WhenAll(announcements).ConfigureAwait(false);
        }

        return removed;
    }
}
