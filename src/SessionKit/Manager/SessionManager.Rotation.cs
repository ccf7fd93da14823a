using System.Globalization;
using Microsoft.Extensions.Logging;
using SessionKit.Internal;
using SessionKit.Security;

namespace SessionKit;

// Rotation writes the session under a fresh id, then turns the old record into a forwarding record: its data is
// stripped, its owner cleared (so listings and per-user limits ignore it), and two binding entries point to the new
// id and say when. Every node resolves the old id to the new session for RotationGracePeriod, then treats it as not
// found; the record itself expires by its idle timeout and is swept like any other.
public sealed partial class SessionManager
{
    private const string RotatedToKey = "sessionkit.rotated_to";
    private const string RotatedAtKey = "sessionkit.rotated_at";
    private const int MaxForwardHops = 3;
    private const int MaxRotateAttempts = 3;

    /// <inheritdoc />
    public async ValueTask<SessionRotateResult> RotateAsync(string id, SessionRotateOptions? options = null, SessionAccessContext? context = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!SessionIds.IsWellFormed(id))
        {
            return SessionRotateResult.NotFound;
        }

        if (options is { ChangeUserId: true, UserId: { } newUser })
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(newUser, nameof(options));
        }

        using var activity = StartActivity("SessionKit.Rotate");
        context ??= SessionAccessContext.Default;
        for (var attempt = 0; attempt < MaxRotateAttempts; attempt++)
        {
            var now = Now();
            var current = await _caching.LoadAsync(id, now, cancellationToken).ConfigureAwait(false);
            if (current is null || IsForwarder(current))
            {
                // An id already rotated away cannot be rotated again; rotate the session's current id.
                return SessionRotateResult.NotFound;
            }

            var verified = await VerifyAsync(current, context, now, cancellationToken).ConfigureAwait(false);
            if (verified.Status != SessionLookupStatus.Found)
            {
                return verified.Status == SessionLookupStatus.Rejected ? SessionRotateResult.Rejected : SessionRotateResult.NotFound;
            }

            var rotated = BuildRotated(current, options, now);
            if (!await CreateCoreAsync(rotated, now, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            if (rotated.UserId is not null && _options.MaxSessionsPerUser is not null
                && !await EnforceUserLimitAsync(rotated, now, cancellationToken).ConfigureAwait(false))
            {
                return SessionRotateResult.Rejected;
            }

            // Compare-and-set on the version we copied: a concurrent update to the old session must not be lost.
            var retired = await RetireAsync(current, rotated.Id, now, cancellationToken).ConfigureAwait(false);
            if (!retired)
            {
                await DeleteCoreAsync(rotated.Id, now, cancellationToken).ConfigureAwait(false);
                continue;
            }

            _metrics.Rotated.Add(1);
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                Log.SessionRotated(_logger, SessionIdTagger.Tag(current.Id), SessionIdTagger.Tag(rotated.Id));
            }

            await RaiseAsync(new SessionEvent
            {
                Kind = SessionEventKind.Rotated,
                SessionId = rotated.Id,
                PreviousSessionId = current.Id,
                UserId = rotated.UserId,
                Timestamp = now,
            }).ConfigureAwait(false);
            return SessionRotateResult.Rotated(rotated);
        }

        // The session kept changing under us (or disappeared); the caller may retry.
        return SessionRotateResult.NotFound;
    }

    private Session BuildRotated(Session current, SessionRotateOptions? options, DateTimeOffset now)
    {
        var binding = current.Binding;
        if (options?.Rebind is { } rebindTo)
        {
            var bound = new SessionChanges();
            foreach (var guard in _guards)
            {
                guard.Bind(rebindTo, bound);
            }

            binding = bound.BindingChanges.Where(static p => p.Value is not null).ToDictionary(static p => p.Key, static p => p.Value!, StringComparer.Ordinal);
        }

        return current with
        {
            Id = SessionIds.Generate(),
            UserId = options is { ChangeUserId: true } ? options.UserId : current.UserId,
            Version = 1,
            LastAccessedAt = now > current.LastAccessedAt ? now : current.LastAccessedAt,
            Binding = binding,
        };
    }

    private async ValueTask<bool> RetireAsync(Session current, string newId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var changes = new SessionChanges { ExpectedVersion = current.Version }.SetUserId(null);
        foreach (var key in current.Metadata.Keys)
        {
            changes.RemoveMetadata(key);
        }

        foreach (var key in current.State.Keys)
        {
            changes.RemoveState(key);
        }

        foreach (var key in current.Binding.Keys)
        {
            changes.RemoveBinding(key);
        }

        changes.SetBinding(RotatedToKey, newId).SetBinding(RotatedAtKey, now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        var result = await UpdateCoreAsync(current.Id, changes, now, cancellationToken).ConfigureAwait(false);
        if (!result.IsUpdated)
        {
            return false;
        }

        // Without a grace window the forwarding record is only the compare-and-set step: remove it at once. A write
        // that reaches the old id after this is "not found", never silently lost.
        if (_options.RotationGracePeriod == TimeSpan.Zero)
        {
            await DeleteCoreAsync(current.Id, now, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    private static bool IsForwarder(Session session) => session.Binding.Count > 0 && session.Binding.ContainsKey(RotatedToKey);

    /// <summary>Follows forwarding records (at most a few hops) while their grace window is open.</summary>
    private async ValueTask<Session?> ResolveForwardAsync(Session forwarder, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var current = forwarder;
        for (var hop = 0; hop < MaxForwardHops && IsForwarder(current); hop++)
        {
            if (!current.Binding.TryGetValue(RotatedAtKey, out var rotatedAtText)
                || !long.TryParse(rotatedAtText, NumberStyles.None, CultureInfo.InvariantCulture, out var rotatedAtMs)
                || now >= DateTimeOffset.FromUnixTimeMilliseconds(rotatedAtMs) + _options.RotationGracePeriod)
            {
                return null;
            }

            var next = await _caching.LoadAsync(current.Binding[RotatedToKey], now, cancellationToken).ConfigureAwait(false);
            if (next is null)
            {
                return null;
            }

            current = next;
        }

        return IsForwarder(current) ? null : current;
    }
}
