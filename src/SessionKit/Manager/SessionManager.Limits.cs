namespace SessionKit;

// MaxSessionsPerUser without a cross-node lock. A session is a lineage (every id it has had through rotations shares
// one), so a rotation never counts twice. Every creator inserts first, then lists the user's sessions and applies
// one order that every creator agrees on — (CreatedAt, lineage) — including its own session: EvictOldest keeps the
// newest MaxSessionsPerUser and deletes the rest (a creator may find its own session among them when newer ones
// raced it, and comes back as the newest); the last creator to list sees every insert, so concurrent logins converge
// on exactly the cap. RejectNew fails closed: a creator that sees more than the cap deletes its own session, so the
// cap is never exceeded (the last creator to list sees every session that stayed). Concurrent creators may all back
// out at once; each then waits a random moment and tries again while the user is below the cap (CSMA-style), so a
// burst of logins ends with sessions admitted, not with everyone refused.
public sealed partial class SessionManager
{
    /// <summary>Applies the per-user limit after <paramref name="created"/> was inserted.</summary>
    /// <returns><see langword="false"/> when <paramref name="created"/> itself did not survive the limit (it was deleted).</returns>
    private async ValueTask<bool> EnforceUserLimitAsync(Session created, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var max = _options.MaxSessionsPerUser!.Value;
        var sessions = await ListUserSessionsAsync(created.UserId!, now, cancellationToken).ConfigureAwait(false);
        var lineages = OrderLineages(sessions);
        if (lineages.Count <= max)
        {
            return true;
        }

        var mine = LineageOf(created);
        if (_options.MaxSessionsPolicy == MaxSessionsPolicy.RejectNew)
        {
            await DeleteCoreAsync(created.Id, now, cancellationToken).ConfigureAwait(false);
            return false;
        }

        var evicted = 0;
        var survived = true;
        foreach (var victim in lineages.Take(lineages.Count - max))
        {
            var removed = false;
            foreach (var id in victim.Ids)
            {
                removed |= await DeleteChainAsync(id, now, cancellationToken).ConfigureAwait(false);
            }

            evicted += removed ? 1 : 0;
            survived &= !string.Equals(victim.Lineage, mine, StringComparison.Ordinal);
        }

        if (evicted > 0)
        {
            _metrics.Evicted.Add(evicted);
            Log.SessionsEvicted(_logger, evicted, max);
        }

        return survived;
    }

    /// <summary>Groups a user's records by lineage (one group per session) in the order every creator agrees on.</summary>
    private static List<(string Lineage, DateTimeOffset CreatedAt, string[] Ids)> OrderLineages(List<Session> sessions) =>
        sessions
            .GroupBy(LineageOf, StringComparer.Ordinal)
            .Select(static g => (Lineage: g.Key, CreatedAt: g.Min(static s => s.CreatedAt), Ids: g.Select(static s => s.Id).ToArray()))
            .OrderBy(static l => l.CreatedAt)
            .ThenBy(static l => l.Lineage, StringComparer.Ordinal)
            .ToList();

    /// <summary>Waits a random, growing moment after a RejectNew back-out, then tells whether the user is at the cap (stop) or not (retry).</summary>
    private async ValueTask<bool> BackOffAsync(int round, string userId, CancellationToken cancellationToken)
    {
        // A pause between retries, not a reading of time: it must end under a manual test clock too.
        await Task.Delay(Random.Shared.Next(1, 4 << round), cancellationToken).ConfigureAwait(false);
        return await AtRejectingLimitAsync(userId, Now(), cancellationToken, count: false).ConfigureAwait(false);
    }

    /// <summary>Determines whether a new session of <paramref name="userId"/> would be refused outright (RejectNew at the cap).</summary>
    private async ValueTask<bool> AtRejectingLimitAsync(string userId, DateTimeOffset now, CancellationToken cancellationToken, bool count = true)
    {
        if (_options.MaxSessionsPerUser is not { } max || _options.MaxSessionsPolicy != MaxSessionsPolicy.RejectNew)
        {
            return false;
        }

        var sessions = await ListUserSessionsAsync(userId, now, cancellationToken).ConfigureAwait(false);
        if (sessions.Select(LineageOf).Distinct(StringComparer.Ordinal).Count() < max)
        {
            return false;
        }

        if (count)
        {
            _metrics.LimitRejected.Add(1);
            Log.SessionLimitReached(_logger, max);
        }

        return true;
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
