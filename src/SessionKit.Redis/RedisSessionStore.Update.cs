using System.Globalization;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SessionKit.Internal;
using SessionKit.Redis.Internal;
using StackExchange.Redis;

namespace SessionKit.Redis;

// Update-if-live with per-key merge and compare-and-set: one Lua call, then the user-index move it implies.
public sealed partial class RedisSessionStore
{
    /// <inheritdoc />
    /// <remarks>
    /// One Lua call checks existence, liveness, the expected version and the merged state size (kept incrementally,
    /// so only the fixed fields and each changed state value's old length are read), applies the change set as one
    /// <c>HSET</c>/<c>HDEL</c> with the new version, and slides. When the hash is still the snapshot this store last
    /// read for the id (same incarnation nonce and version) the reply is a few numbers and the new snapshot is built
    /// here from that snapshot and the changes; otherwise the script returns the new hash. A change of user also
    /// moves the session between user indexes (added to the new one first).
    /// </remarks>
    /// <exception cref="ArgumentException">The new user id is not well-formed UTF-16.</exception>
    public async ValueTask<SessionUpdateResult> UpdateAsync(string id, SessionChanges changes, DateTimeOffset now, long maxStateBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(changes);
        WellFormedText.ThrowIfIllFormed(changes, nameof(changes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxStateBytes);
        if (!_keys.TrySessionKey(id, out var key))
        {
            return SessionUpdateResult.NotFound;
        }

        var newUser = changes.ChangesUserId ? changes.UserId : null;
        RedisKey newUserKey = default;
        if (newUser is not null && !_keys.TryUserKey(newUser, out newUserKey))
        {
            throw new ArgumentException("The user id is not well-formed UTF-16.", nameof(changes));
        }

        var nowMs = RedisSessionHash.ToMs(now);
        // The snapshot this store last read or wrote for the id: if the hash is still exactly it, the script skips the
        // size reads and replies with a few numbers, and the new snapshot is this one with the changes applied.
        Known? known = null;
        if (_memo.Known(id) is { } memo && (changes.ExpectedVersion is not { } expected || expected == memo.Session.Version))
        {
            var applied = changes.ApplyTo(memo.Session, memo.Session.LastAccessedAt);
            known = new Known(memo.Token, applied, changes.StateChanges.Count > 0 ? applied.GetStateSize() : null);
        }

        var args = BuildUpdateArgs(changes, nowMs, _graceMs, maxStateBytes, known);
        return await RunAsync(
            OpUpdate,
            id,
            (Id: id, Key: key, Changes: changes, NewUserKey: newUserKey, NowMs: nowMs, Args: args, MaxStateBytes: maxStateBytes, Known: known),
            static (store, database, s, start, cancellationToken) =>
                store.UpdateCoreAsync(database, s.Id, s.Key, s.Changes, s.NewUserKey, s.NowMs, s.Args, s.MaxStateBytes, s.Known, start, cancellationToken),
            cancellationToken).ConfigureAwait(false);
    }

    private async Task<SessionUpdateResult> UpdateCoreAsync(IDatabase database, string id, RedisKey key, SessionChanges changes, RedisKey newUserKey, long nowMs, RedisValue[] args, long maxStateBytes, Known? known, long start, CancellationToken cancellationToken)
    {
        var newUser = changes.ChangesUserId ? changes.UserId : null;
        if (newUser is not null)
        {
            // Placeholder score in the future, so readers leave the entry alone while this update is in flight.
            await WithTimeout(IndexUserAsync(database, newUserKey, id, nowMs + PendingEntryMs, nowMs), start, cancellationToken).ConfigureAwait(false);
        }

        var result = (RedisResult[])(await WithTimeout(EvaluateAsync(database, Scripts.Update, key, args), start, cancellationToken).ConfigureAwait(false))!;
        var code = (long)result[0];
        if (code is 1 or 2)
        {
            Session session;
            if (code == 2 && known is not null)
            {
                session = FromKnown(known.Applied, result);
                _memo.RememberWritten(id, session, string.Concat(known.Token.AsSpan(0, known.Token.IndexOf(':', StringComparison.Ordinal) + 1), session.Version.ToString(CultureInfo.InvariantCulture)));
            }
            else
            {
                session = RedisSessionHash.Decode(id, result, 3, out var error)
                    ?? throw new SessionStoreException(Name, OpUpdate, $"The updated session could not be read back: {error}.");
                if (NonceOf(result, 3) is { } nonce)
                {
                    _memo.RememberWritten(id, session, nonce + ":" + session.Version.ToString(CultureInfo.InvariantCulture));
                }
            }

            var oldUser = (string?)result[1];
            if (changes.ChangesUserId && !string.Equals(oldUser, newUser, StringComparison.Ordinal))
            {
                var expiresMs = (long)result[2];
                var moves = new List<Task>(2);
                if (oldUser is not null)
                {
                    moves.Add(database.SortedSetRemoveAsync(_keys.UserKey(oldUser), id));
                }

                if (newUser is not null)
                {
                    moves.Add(IndexUserAsync(database, newUserKey, id, expiresMs, nowMs));
                }

                await MaintainIndexesAsync(OpUpdate, start, Task.WhenAll(moves), id).ConfigureAwait(false);
            }
            else if (newUser is not null)
            {
                await MaintainIndexesAsync(OpUpdate, start, IndexUserAsync(database, newUserKey, id, (long)result[2], nowMs), id).ConfigureAwait(false);
            }

            return SessionUpdateResult.Updated(session);
        }

        if (newUser is not null)
        {
            // Not applied: undo the placeholder unless the session already belongs to that user.
            var currentUser = result.Length > 2 ? (string?)result[2] : null;
            var undo = string.Equals(currentUser, newUser, StringComparison.Ordinal)
                ? IndexUserAsync(database, newUserKey, id, (long)result[3], nowMs)
                : database.SortedSetRemoveAsync(newUserKey, id);
            await MaintainIndexesAsync(OpUpdate, start, undo, id).ConfigureAwait(false);
        }

        return code switch
        {
            0 => SessionUpdateResult.NotFound,
            -3 => SessionUpdateResult.Forwarded(RedisSessionHash.Decode(id, result, 4, out var forwarderError)
                ?? throw new SessionStoreException(Name, OpUpdate, $"The forwarding record could not be read: {forwarderError}.")),
            -1 => SessionUpdateResult.Conflict((long)result[1]),
            -2 => throw new SessionStateTooLargeException((long)result[1], maxStateBytes),
            _ => throw new SessionStoreException(Name, OpUpdate, $"The update script returned an unknown code {code}."),
        };
    }

    /// <summary>
    /// Builds the updated snapshot from the one the caller read (the script confirmed the hash was still exactly that
    /// incarnation and version) and the change set, taking what only Redis knows from the reply: the new version, the
    /// last access (a touch elsewhere may have moved it) and the absolute expiry.
    /// </summary>
    private static Session FromKnown(Session applied, RedisResult[] reply)
    {
        var lastAccessMs = (long)reply[4];
        var absoluteMs = reply[5].IsNull ? (long?)null : (long)reply[5];
        return applied with
        {
            Version = (long)reply[3],
            LastAccessedAt = DateTimeOffset.FromUnixTimeMilliseconds(lastAccessMs),
            AbsoluteExpiresAt = absoluteMs is { } abs ? DateTimeOffset.FromUnixTimeMilliseconds(abs) : null,
        };
    }

    /// <summary>Finds the incarnation nonce (<c>n</c>) in a flat field/value reply.</summary>
    private static string? NonceOf(RedisResult[] flat, int offset)
    {
        for (var i = offset; i + 1 < flat.Length; i += 2)
        {
            if ((string?)flat[i] == "n")
            {
                return (string?)flat[i + 1];
            }
        }

        return null;
    }

    private static RedisValue[] BuildUpdateArgs(SessionChanges changes, long nowMs, long graceMs, long maxStateBytes, Known? known)
    {
        var sets = changes.MetadataChanges.Count(static c => c.Value is not null)
            + changes.StateChanges.Count(static c => c.Value is not null)
            + changes.BindingChanges.Count(static c => c.Value is not null);
        var removals = changes.MetadataChanges.Count + changes.StateChanges.Count + changes.BindingChanges.Count - sets;
        var args = new RedisValue[14 + (2 * sets) + removals];
        args[0] = nowMs;
        args[1] = graceMs;
        args[2] = changes.ExpectedVersion is { } expected ? expected : RedisValue.EmptyString;
        args[3] = maxStateBytes;
        (args[4], args[5]) = ScalarChange(changes.ChangesUserId, changes.UserId);
        (args[6], args[7]) = ScalarChange(changes.ChangesKind, changes.Kind);
        args[8] = changes.StateChanges.Count > 0 ? "1" : "0";
        args[9] = sets;
        args[10] = changes.AbsoluteExpiryCap is { } cap ? RedisSessionHash.ToMs(cap) : RedisValue.EmptyString;
        args[11] = known?.Token ?? RedisValue.EmptyString;
        args[12] = known?.StateSize is { } size ? size : RedisValue.EmptyString;
        var i = 13;
        foreach (var (key, value) in changes.MetadataChanges)
        {
            if (value is not null)
            {
                args[i++] = RedisSessionHash.MetadataPrefix + key;
                args[i++] = value;
            }
        }

        foreach (var (key, value) in changes.StateChanges)
        {
            if (value is { } element)
            {
                args[i++] = RedisSessionHash.StatePrefix + key;
                args[i++] = element.GetRawText();
            }
        }

        foreach (var (key, value) in changes.BindingChanges)
        {
            if (value is not null)
            {
                args[i++] = RedisSessionHash.BindingPrefix + key;
                args[i++] = value;
            }
        }

        args[i++] = removals;
        foreach (var (key, value) in changes.MetadataChanges)
        {
            if (value is null)
            {
                args[i++] = RedisSessionHash.MetadataPrefix + key;
            }
        }

        foreach (var (key, value) in changes.StateChanges)
        {
            if (value is null)
            {
                args[i++] = RedisSessionHash.StatePrefix + key;
            }
        }

        foreach (var (key, value) in changes.BindingChanges)
        {
            if (value is null)
            {
                args[i++] = RedisSessionHash.BindingPrefix + key;
            }
        }

        return args;
    }

    private static (RedisValue Op, RedisValue Value) ScalarChange(bool changed, string? value) =>
        !changed ? (RedisValue.EmptyString, RedisValue.EmptyString)
        : value is null ? ("c", RedisValue.EmptyString)
        : ("s", value);

    /// <summary>A snapshot the update may confirm: its token, the snapshot with the changes applied, and that result's state size when the state changes.</summary>
    private sealed record Known(string Token, Session Applied, long? StateSize);
}
