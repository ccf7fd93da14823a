namespace SessionKit;

// MaxSessionsPerUser without a cross-node lock: every creator inserts first, then counts the user's live sessions.
// Each creator's count includes its own session, so whichever order creations interleave in, the set never stays
// above the limit: RejectNew deletes its own session when over (concurrent creators may both back out — it fails
// closed), EvictOldest deletes the oldest beyond the limit in one deterministic order (concurrent creators delete
// the same sessions; deletes are idempotent).
public sealed partial class SessionManager
{
    private async ValueTask<bool> EnforceUserLimitAsync(Session created, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var max = _options.MaxSessionsPerUser!.Value;
        var sessions = await ListUserSessionsAsync(created.UserId!, now, cancellationToken).ConfigureAwait(false);
        if (sessions.Count <= max)
        {
            return true;
        }

        if (_options.MaxSessionsPolicy == MaxSessionsPolicy.RejectNew)
        {
            await DeleteCoreAsync(created.Id, now, cancellationToken).ConfigureAwait(false);
            _metrics.LimitRejected.Add(1);
            Log.SessionLimitReached(_logger, max);
            return false;
        }

        var evicted = 0;
        var oldestFirst = sessions
            .Where(s => !string.Equals(s.Id, created.Id, StringComparison.Ordinal))
            .OrderBy(static s => s.CreatedAt)
            .ThenBy(static s => s.Id, StringComparer.Ordinal)
            .Take(sessions.Count - max);
        foreach (var victim in oldestFirst)
        {
            if (await DeleteAndReportAsync(victim, now, cancellationToken).ConfigureAwait(false))
            {
                evicted++;
            }
        }

        if (evicted > 0)
        {
            _metrics.Evicted.Add(evicted);
            Log.SessionsEvicted(_logger, evicted, max);
        }

        return true;
    }

    private async ValueTask<int> CountUserSessionsAsync(string userId, int atMost, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var count = 0;
        string? cursor = null;
        for (var pages = 0; pages < MaxPages; pages++)
        {
            var page = await _store.QueryAsync(new SessionQuery { UserId = userId, Cursor = cursor, Limit = SessionQuery.MaxLimit }, now, cancellationToken).ConfigureAwait(false);
            count += page.Sessions.Count;
            cursor = page.NextCursor;
            if (cursor is null || count >= atMost)
            {
                break;
            }
        }

        return count;
    }

    private async ValueTask<List<Session>> ListUserSessionsAsync(string userId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var sessions = new List<Session>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? cursor = null;
        for (var pages = 0; pages < MaxPages; pages++)
        {
            var page = await _store.QueryAsync(new SessionQuery { UserId = userId, Cursor = cursor, Limit = SessionQuery.MaxLimit }, now, cancellationToken).ConfigureAwait(false);
            foreach (var session in page.Sessions)
            {
                if (seen.Add(session.Id))
                {
                    sessions.Add(session);
                }
            }

            cursor = page.NextCursor;
            if (cursor is null)
            {
                break;
            }
        }

        return sessions;
    }

    // A user with more than a million sessions is a bug elsewhere; the bound keeps every loop finite.
    private const int MaxPages = 1000;
}
