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
    /// One Lua call checks existence, liveness, the expected version and the merged state size, applies the change
    /// set as one <c>HSET</c>/<c>HDEL</c>, bumps the version, slides and returns the new hash. A change of user also
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
        var args = BuildUpdateArgs(changes, nowMs, _graceMs, maxStateBytes);
        return await RunAsync(
            OpUpdate,
            id,
            (Id: id, Key: key, Changes: changes, NewUserKey: newUserKey, NowMs: nowMs, Args: args, MaxStateBytes: maxStateBytes),
            static (store, database, s, start, cancellationToken) =>
                store.UpdateCoreAsync(database, s.Id, s.Key, s.Changes, s.NewUserKey, s.NowMs, s.Args, s.MaxStateBytes, start, cancellationToken),
            cancellationToken).ConfigureAwait(false);
    }

    private async Task<SessionUpdateResult> UpdateCoreAsync(IDatabase database, string id, RedisKey key, SessionChanges changes, RedisKey newUserKey, long nowMs, RedisValue[] args, long maxStateBytes, long start, CancellationToken cancellationToken)
    {
        var newUser = changes.ChangesUserId ? changes.UserId : null;
        if (newUser is not null)
        {
            // Placeholder score in the future, so readers leave the entry alone while this update is in flight.
            await WithTimeout(IndexUserAsync(database, newUserKey, id, nowMs + PendingEntryMs, nowMs), start, cancellationToken).ConfigureAwait(false);
        }

        var result = (RedisResult[])(await WithTimeout(EvaluateAsync(database, Scripts.Update, key, args), start, cancellationToken).ConfigureAwait(false))!;
        var code = (long)result[0];
        if (code == 1)
        {
            var session = RedisSessionHash.Decode(id, result, 3, out var error)
                ?? throw new SessionStoreException(Name, OpUpdate, $"The updated session could not be read back: {error}.");
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

    private static RedisValue[] BuildUpdateArgs(SessionChanges changes, long nowMs, long graceMs, long maxStateBytes)
    {
        var sets = changes.MetadataChanges.Count(static c => c.Value is not null)
            + changes.StateChanges.Count(static c => c.Value is not null)
            + changes.BindingChanges.Count(static c => c.Value is not null);
        var removals = changes.MetadataChanges.Count + changes.StateChanges.Count + changes.BindingChanges.Count - sets;
        var args = new RedisValue[12 + (2 * sets) + removals];
        args[0] = nowMs;
        args[1] = graceMs;
        args[2] = changes.ExpectedVersion is { } expected ? expected : RedisValue.EmptyString;
        args[3] = maxStateBytes;
        (args[4], args[5]) = ScalarChange(changes.ChangesUserId, changes.UserId);
        (args[6], args[7]) = ScalarChange(changes.ChangesKind, changes.Kind);
        args[8] = changes.StateChanges.Count > 0 ? "1" : "0";
        args[9] = sets;
        args[10] = changes.AbsoluteExpiryCap is { } cap ? RedisSessionHash.ToMs(cap) : RedisValue.EmptyString;
        var i = 11;
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
}
