using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using SessionKit.Internal;
using SessionKit.Security;

namespace SessionKit;

// Rotation is one linearizable step on the old record: a single store update flips it into a forwarder. The
// forwarder keeps the data, gains a pointer to the new id, and has its absolute expiry capped at the end of the
// grace window (at once for a privilege change, with no pointer at all). The store never changes a forwarder again,
// so every write acknowledged before the flip is in the data the flip returns, the new record is created from that
// data with the same version (an ExpectedVersion read before the rotation means the same data after it), and every
// later write is refused by the forwarder and followed to the new record. A rotation never fails on contention: the
// flip is unconditional; a rotation that meets another one follows it and rotates the live end.
public sealed partial class SessionManager
{
    private const string RotatedAtKey = "sessionkit.rotated_at";
    private const string RotatedFromKey = "sessionkit.rotated_from";
    private const string LineageKey = "sessionkit.lineage";
    private const int MaxForwardHops = 32;
    private const int MaxSuccessorWaits = 40;

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

        // Login and re-binding change who the session belongs to: the old id must die at once, never forward.
        var privileged = options is { ChangeUserId: true } || options?.Rebind is not null;
        var forwards = !privileged && _options.RotationGracePeriod > TimeSpan.Zero;
        var target = id;
        for (var attempt = 0; attempt < MaxForwardHops; attempt++)
        {
            var now = Now();
            var loaded = await _caching.LoadAsync(target, now, cancellationToken).ConfigureAwait(false);
            if (loaded is null)
            {
                return SessionRotateResult.NotFound;
            }

            if (loaded.IsForwarder)
            {
                var (end, pending) = await ResolveForwardAsync(loaded, now, cancellationToken).ConfigureAwait(false);
                if (end is null)
                {
                    return pending ? SessionRotateResult.Busy : SessionRotateResult.NotFound;
                }

                loaded = end;
            }

            var verified = await VerifyAsync(loaded, context, now, cancellationToken).ConfigureAwait(false);
            if (verified.Status != SessionLookupStatus.Found)
            {
                return verified.Status == SessionLookupStatus.Rejected ? SessionRotateResult.Rejected : SessionRotateResult.NotFound;
            }

            var live = verified.Session!;
            var newUserId = options is { ChangeUserId: true } ? options.UserId : live.UserId;
            var userChanges = !string.Equals(newUserId, live.UserId, StringComparison.Ordinal);
            if (userChanges && newUserId is not null && await AtRejectingLimitAsync(newUserId, now, cancellationToken).ConfigureAwait(false))
            {
                return SessionRotateResult.LimitReached;
            }

            var newId = SessionIds.Generate();
            var flip = new SessionChanges()
                .SetBinding(Session.ForwarderBindingKey, forwards ? newId : string.Empty)
                .SetBinding(RotatedAtKey, now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture))
                .CapAbsoluteExpiry(forwards ? now + _options.RotationGracePeriod : now);
            var flipped = await UpdateCoreAsync(live.Id, flip, now, cancellationToken).ConfigureAwait(false);
            if (flipped.Status == SessionUpdateStatus.Forwarded)
            {
                // Another rotation moved the session first: rotate where it went.
                target = live.Id;
                continue;
            }

            if (!flipped.IsUpdated)
            {
                return SessionRotateResult.NotFound;
            }

            var rotated = BuildRotated(flipped.Session!, live, newId, newUserId, userChanges, forwards, options, now);
            if (!await CreateCoreAsync(rotated, now, cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException("The store reported an id collision for a fresh 256-bit id; the store or the random number generator is broken.");
            }

            if (forwards && !await _store.ExistsAsync(live.Id, now, cancellationToken).ConfigureAwait(false) && Now() < now + _options.RotationGracePeriod)
            {
                // A delete ended the chain while the new record was being written: end it here too.
                await DeleteCoreAsync(rotated.Id, now, cancellationToken).ConfigureAwait(false);
                return SessionRotateResult.NotFound;
            }

            if (userChanges && newUserId is not null && _options.MaxSessionsPerUser is not null
                && !await EnforceUserLimitAsync(rotated, now, cancellationToken).ConfigureAwait(false))
            {
                return SessionRotateResult.LimitReached;
            }

            _metrics.Rotated.Add(1);
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                Log.SessionRotated(_logger, SessionIdTagger.Tag(live.Id), SessionIdTagger.Tag(rotated.Id));
            }

            await RaiseAsync(new SessionEvent
            {
                Kind = SessionEventKind.Rotated,
                SessionId = rotated.Id,
                PreviousSessionId = live.Id,
                UserId = rotated.UserId,
                Timestamp = now,
            }).ConfigureAwait(false);
            return SessionRotateResult.Rotated(rotated);
        }

        return SessionRotateResult.Busy;
    }

    /// <summary>The new record: the data as the flip found it, under the new id, with the version it had before the flip.</summary>
    private Session BuildRotated(Session flipped, Session live, string newId, string? userId, bool userChanges, bool forwards, SessionRotateOptions? options, DateTimeOffset now)
    {
        Dictionary<string, string> binding;
        if (options?.Rebind is { } rebindTo)
        {
            var bound = new SessionChanges();
            foreach (var guard in _guards)
            {
                guard.Bind(rebindTo, bound);
            }

            binding = bound.BindingChanges.Where(static p => p.Value is not null).ToDictionary(static p => p.Key, static p => p.Value!, StringComparer.Ordinal);
        }
        else
        {
            binding = new Dictionary<string, string>(flipped.Binding, StringComparer.Ordinal);
            binding.Remove(Session.ForwarderBindingKey);
            binding.Remove(RotatedAtKey);
            binding.Remove(RotatedFromKey);
        }

        // A session that moves to another user is a new session of that user's (its own place in the limit's order).
        binding[LineageKey] = userChanges ? NewLineage() : LineageOf(flipped);
        if (forwards)
        {
            binding[RotatedFromKey] = flipped.Id;
        }

        return flipped with
        {
            Id = newId,
            UserId = userId,
            CreatedAt = userChanges ? now : flipped.CreatedAt,
            AbsoluteExpiresAt = live.AbsoluteExpiresAt,
            Version = flipped.Version - 1,
            LastAccessedAt = now > flipped.LastAccessedAt ? now : flipped.LastAccessedAt,
            Binding = binding,
        };
    }

    /// <summary>The id a forwarder points to, or <see langword="null"/> when it has none (an id ended by a privilege change).</summary>
    private static string? ForwardTarget(Session record) =>
        record.Binding.TryGetValue(Session.ForwarderBindingKey, out var next) && next.Length > 0 ? next : null;

    /// <summary>Gets the lineage a record belongs to: the same for every id a session has had (records from before lineages: the id).</summary>
    private static string LineageOf(Session record) => record.Binding.TryGetValue(LineageKey, out var lineage) ? lineage : record.Id;

    private static string NewLineage() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(12));

    /// <summary>
    /// Follows forwarders to the live end of the chain. A successor not written yet (the rotation is between its flip
    /// and its create) is waited for, briefly; <c>Pending</c> reports that the wait ran out.
    /// </summary>
    private async ValueTask<(Session? Session, bool Pending)> ResolveForwardAsync(Session forwarder, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var current = forwarder;
        var waits = 0;
        for (var hop = 0; hop < MaxForwardHops && current.IsForwarder;)
        {
            if (ForwardTarget(current) is not { } target || !InGrace(current, now))
            {
                return (null, false);
            }

            var next = await _caching.LoadAsync(target, now, cancellationToken).ConfigureAwait(false);
            if (next is null)
            {
                if (waits >= MaxSuccessorWaits)
                {
                    return (null, true);
                }

                if (!await AwaitSuccessorAsync(current.Id, waits++, now, cancellationToken).ConfigureAwait(false))
                {
                    return (null, false);
                }

                continue;
            }

            current = next;
            hop++;
        }

        return current.IsForwarder ? (null, false) : (current, false);
    }

    private bool InGrace(Session forwarder, DateTimeOffset now) =>
        RotatedAt(forwarder) is not { } rotatedAt || now < rotatedAt + _options.RotationGracePeriod;

    /// <summary>When a forwarder was made, or <see langword="null"/> when it does not say (records from before the stamp).</summary>
    private static DateTimeOffset? RotatedAt(Session forwarder) =>
        forwarder.Binding.TryGetValue(RotatedAtKey, out var text) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;

    /// <summary>
    /// Decides whether a missing successor is worth waiting for: only while its forwarder still stands and was made
    /// within <see cref="SessionKitOptions.RotationTimeout"/>, and for a bounded number of pauses.
    /// </summary>
    private async ValueTask<bool> AwaitSuccessorAsync(string forwarderId, int attempt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (attempt >= MaxSuccessorWaits)
        {
            return false;
        }

        var forwarder = await _store.GetAsync(forwarderId, now, cancellationToken).ConfigureAwait(false);
        if (forwarder is null || !forwarder.IsForwarder || ForwardTarget(forwarder) is null
            || RotatedAt(forwarder) is not { } rotatedAt || now >= rotatedAt + _options.RotationTimeout)
        {
            return false;
        }

        // A pause between retries, not a reading of time: it must end under a manual test clock too, and the attempt
        // bound (about 1.8 s in all) ends the wait when the rotation's node died between its flip and its create.
        await Task.Delay(Math.Min(1 << Math.Min(attempt, 6), 50), cancellationToken).ConfigureAwait(false);
        return true;
    }
}
