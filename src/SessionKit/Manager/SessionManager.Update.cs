using Microsoft.Extensions.Logging;
using SessionKit.Internal;
using SessionKit.Security;

namespace SessionKit;

public sealed partial class SessionManager
{
    /// <inheritdoc />
    public async ValueTask<SessionUpdateResult> UpdateAsync(string id, SessionChanges changes, SessionAccessContext? context = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(changes);
        if (!SessionIds.IsWellFormed(id))
        {
            return SessionUpdateResult.NotFound;
        }

        using var activity = StartActivity("SessionKit.Update");
        var now = Now();
        context ??= SessionAccessContext.Default;

        // The snapshot this node read for the id moments ago (the request's get) stands in for the read-first when the
        // guards accept it outright. The write is then a compare-and-set on that snapshot's version, so it lands only
        // on exactly the data the guards saw; any change since (an update, a rotation, a rebind elsewhere) falls back.
        if (_recentReads?.Find(id) is { } recent && CanWriteUnread(recent, changes, context, now))
        {
            var fast = await UpdateCoreAsync(id, changes.WithExpectedVersion(recent.Version), now, cancellationToken).ConfigureAwait(false);
            if (fast.Status == SessionUpdateStatus.Updated)
            {
                _recentReads.Remember(fast.Session!);
                return fast;
            }
        }

        // Read first: the guards need the binding, and an id rotated moments ago forwards to the session's live id.
        var current = await _caching.LoadAsync(id, now, cancellationToken).ConfigureAwait(false);
        if (current is null)
        {
            return SessionUpdateResult.NotFound;
        }

        var verified = await VerifyAsync(current, context, now, cancellationToken).ConfigureAwait(false);
        switch (verified.Status)
        {
            case SessionLookupStatus.NotFound:
                return SessionUpdateResult.NotFound;
            case SessionLookupStatus.Rejected:
                return SessionUpdateResult.Rejected;
        }

        var target = verified.Session!.Id;
        var result = await UpdateLiveEndAsync(target, changes, now, cancellationToken).ConfigureAwait(false);
        if (result.Status == SessionUpdateStatus.Conflict)
        {
            _metrics.Conflicts.Add(1);
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                Log.UpdateConflict(_logger, SessionIdTagger.Tag(target), changes.ExpectedVersion ?? 0, result.CurrentVersion ?? 0);
            }
        }

        return result;
    }

    /// <summary>
    /// Whether an update may go straight to the store on a snapshot read earlier: it is live, not a forwarder, at the
    /// version the caller expects (if any), and every guard allows it without a flag or a rebind (anything else takes
    /// the read-first path, which logs, rebinds and rejects as a read does).
    /// </summary>
    private bool CanWriteUnread(Session recent, SessionChanges changes, SessionAccessContext context, DateTimeOffset now)
    {
        if (recent.IsForwarder || !recent.IsLiveAt(now) || (changes.ExpectedVersion is { } expected && expected != recent.Version))
        {
            return false;
        }

        foreach (var guard in _guards)
        {
            var verdict = guard.Check(recent, context);
            if (verdict.Decision != SessionGuardDecision.Allow || verdict.Rebind is not null)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Writes to the live end of a rotation chain: a forwarder refuses every write, so the write follows it (any
    /// number of hops) until it lands on the live record or finds the chain ended. A write is acknowledged only where
    /// it landed, so none is ever stranded on a forwarder.
    /// </summary>
    private async ValueTask<SessionUpdateResult> UpdateLiveEndAsync(string id, SessionChanges changes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var target = id;
        string? via = null;
        var waits = 0;
        for (var hop = 0; hop < MaxForwardHops;)
        {
            var result = await UpdateCoreAsync(target, changes, now, cancellationToken).ConfigureAwait(false);
            switch (result.Status)
            {
                case SessionUpdateStatus.Forwarded when ForwardTarget(result.Session!) is { } next:
                    via = target;
                    target = next;
                    hop++;
                    continue;
                case SessionUpdateStatus.Forwarded:
                    // A forwarder with no successor: a privilege change ended this id.
                    return SessionUpdateResult.NotFound;
                case SessionUpdateStatus.NotFound when via is not null && await AwaitSuccessorAsync(via, waits++, now, cancellationToken).ConfigureAwait(false):
                    // The rotation that made the forwarder has not created its successor yet: try again.
                    continue;
                default:
                    return result;
            }
        }

        return SessionUpdateResult.NotFound;
    }
}
