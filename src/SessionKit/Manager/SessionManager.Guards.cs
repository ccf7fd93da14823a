using Microsoft.Extensions.Logging;
using SessionKit.Internal;
using SessionKit.Security;

namespace SessionKit;

public sealed partial class SessionManager
{
    /// <summary>
    /// Resolves a loaded session for an access: follows a rotation forward (within the grace window) and runs every
    /// guard. Returns the session the caller may use, not found, or rejected (after logging, counting, raising the
    /// event and, when configured, terminating the session).
    /// </summary>
    private async ValueTask<SessionLookupResult> VerifyAsync(Session session, SessionAccessContext context, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (session.IsForwarder)
        {
            var (target, _) = await ResolveForwardAsync(session, now, cancellationToken).ConfigureAwait(false);
            if (target is null)
            {
                return SessionLookupResult.NotFound;
            }

            session = target;
        }

        SessionChanges? rebind = null;
        foreach (var guard in _guards)
        {
            var verdict = guard.Check(session, context);
            switch (verdict.Decision)
            {
                case SessionGuardDecision.Reject:
                    await OnRejectedAsync(session, guard.Name, verdict.Reason ?? "rejected", now, cancellationToken).ConfigureAwait(false);
                    return SessionLookupResult.Rejected;
                case SessionGuardDecision.Flag:
                    _metrics.Flagged.Add(1, new KeyValuePair<string, object?>("sessionkit.guard", guard.Name));
                    Log.AccessFlagged(_logger, SessionIdTagger.Tag(session.Id), guard.Name, verdict.Reason ?? "flagged");
                    break;
                default:
                    rebind ??= verdict.Rebind;
                    break;
            }
        }

        if (rebind is not null)
        {
            await RebindAsync(session, rebind, now, cancellationToken).ConfigureAwait(false);
        }

        return SessionLookupResult.Found(session);
    }

    private async ValueTask OnRejectedAsync(Session session, string guard, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        _metrics.Rejected.Add(1, new KeyValuePair<string, object?>("sessionkit.guard", guard));
        Log.AccessRejected(_logger, SessionIdTagger.Tag(session.Id), guard, reason);
        if (_options.TerminateOnRejection && await DeleteChainAsync(session.Id, now, cancellationToken).ConfigureAwait(false))
        {
            Log.TerminatedOnRejection(_logger, SessionIdTagger.Tag(session.Id));
        }

        await RaiseAsync(new SessionEvent
        {
            Kind = SessionEventKind.Rejected,
            SessionId = session.Id,
            UserId = session.UserId,
            Timestamp = now,
            Guard = guard,
            Reason = reason,
        }).ConfigureAwait(false);
    }

    private async ValueTask RebindAsync(Session session, SessionChanges rebind, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Re-binding under a rotated server key is an optimisation of the next access, not part of this one: a
        // failure is logged and the access proceeds (the previous key still verifies until it is removed).
        try
        {
            rebind.ExpectedVersion = session.Version;
            await UpdateCoreAsync(session.Id, rebind, now, cancellationToken).ConfigureAwait(false);
        }
        catch (SessionStoreException ex)
        {
            Log.RebindFailed(_logger, SessionIdTagger.Tag(session.Id), ex);
        }
    }
}
