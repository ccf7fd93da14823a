using Microsoft.Extensions.Logging;
using SessionKit.Internal;
using SessionKit.Security;

namespace SessionKit;

// Delete ends the whole rotation chain of a session, whichever id it is given and whatever rotation races it: each
// store delete reports what it removed, a removed forwarder leads to its successor and a removed successor back to
// its forwarder, and a rotation that finds its forwarder deleted after creating the new record deletes that too.
public sealed partial class SessionManager
{
    /// <inheritdoc />
    public async ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!SessionIds.IsWellFormed(id))
        {
            return false;
        }

        using var activity = StartActivity("SessionKit.Delete");
        return await DeleteChainAsync(id, Now(), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<int> DeleteUserSessionsAsync(string userId, string? exceptSessionId = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        using var activity = StartActivity("SessionKit.DeleteUserSessions");
        var now = Now();
        var sessions = await ListUserSessionsAsync(userId, now, cancellationToken).ConfigureAwait(false);

        // The kept session is a lineage: its forwarders (ids it was rotated away from) stay too, or deleting one would
        // follow it to the kept id.
        var kept = exceptSessionId is null ? null : sessions.FirstOrDefault(s => string.Equals(s.Id, exceptSessionId, StringComparison.Ordinal)) is { } keep ? LineageOf(keep) : exceptSessionId;
        var deleted = 0;
        foreach (var session in sessions)
        {
            if (!string.Equals(LineageOf(session), kept, StringComparison.Ordinal)
                && await DeleteChainAsync(session.Id, now, cancellationToken).ConfigureAwait(false))
            {
                deleted++;
            }
        }

        Log.UserSessionsDeleted(_logger, deleted, exceptSessionId is not null);
        return deleted;
    }

    /// <summary>
    /// Deletes a record and every record of its rotation chain (forward through successors, back through forwarders),
    /// and reports the session's end once.
    /// </summary>
    /// <returns><see langword="true"/> when a live record (the session or one of its forwarders) was removed.</returns>
    private async ValueTask<bool> DeleteChainAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Session? live = null;
        var removedAny = false;
        var pending = new Stack<string>();
        pending.Push(id);
        for (var hops = 0; pending.Count > 0 && hops < 2 * MaxForwardHops; hops++)
        {
            var removed = await DeleteCoreAsync(pending.Pop(), now, cancellationToken).ConfigureAwait(false);
            if (removed is null)
            {
                continue;
            }

            removedAny = true;
            if (!removed.IsForwarder)
            {
                live = removed;
            }

            if (ForwardTarget(removed) is { } next)
            {
                pending.Push(next);
            }

            if (removed.Binding.TryGetValue(RotatedFromKey, out var previous) && previous.Length > 0)
            {
                pending.Push(previous);
            }
        }

        if (live is not null)
        {
            _metrics.Deleted.Add(1);
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                Log.SessionDeleted(_logger, SessionIdTagger.Tag(live.Id));
            }

            await RaiseAsync(SessionEventKind.Deleted, live, now).ConfigureAwait(false);
        }

        return removedAny;
    }
}
