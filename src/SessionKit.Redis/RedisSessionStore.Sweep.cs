using System.Diagnostics;
using SessionKit.Internal;
using SessionKit.Redis.Internal;
using StackExchange.Redis;

namespace SessionKit.Redis;

public sealed partial class RedisSessionStore
{
    private const int MaxSweepRounds = 8;

    /// <inheritdoc />
    /// <remarks>
    /// Reads due ids from the expiry index, then runs one compare-and-delete script per id (pipelined): a session is
    /// deleted only if its hash is still expired at <paramref name="now"/>, so a touch racing the sweep wins. Removed
    /// sessions leave both indexes; sessions slid since they were scheduled are re-scored; entries whose hash is gone
    /// are dropped.
    /// </remarks>
    public async ValueTask<IReadOnlyList<Session>> RemoveExpiredAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        var nowMs = RedisSessionHash.ToMs(now);
        var removed = new List<Session>();
        var counts = (Rescheduled: 0, Dropped: 0);
        try
        {
            counts = await RunAsync(
                OpRemoveExpired,
                id: null,
                (NowMs: nowMs, MaxCount: maxCount, Removed: removed),
                static (store, database, s, start, cancellationToken) => store.SweepAsync(database, s.NowMs, s.MaxCount, s.Removed, start, cancellationToken),
                cancellationToken).ConfigureAwait(false);
        }
        catch (SessionStoreException ex) when (removed.Count > 0)
        {
            // Sessions already deleted must still be reported (expiry events); the rest waits for the next sweep.
            Log.IndexMaintenanceFailed(_logger, OpRemoveExpired, ex.Message);
        }

        Log.SweepCompleted(_logger, removed.Count, counts.Rescheduled, counts.Dropped);
        return removed;
    }

    /// <summary>Runs the sweep's rounds, adding what it deletes to <paramref name="removed"/> as it goes.</summary>
    private async Task<(int Rescheduled, int Dropped)> SweepAsync(IDatabase database, long nowMs, int maxCount, List<Session> removed, long start, CancellationToken cancellationToken)
    {
        int rescheduled = 0, dropped = 0;
        for (var round = 0; round < MaxSweepRounds && removed.Count < maxCount; round++)
        {
            var due = await WithTimeout(
                database.SortedSetRangeByScoreAsync(_keys.ExpiryIndex, double.NegativeInfinity, nowMs, take: maxCount - removed.Count),
                start,
                cancellationToken).ConfigureAwait(false);
            if (due.Length == 0)
            {
                break;
            }

            var ids = Array.ConvertAll(due, static member => (string)member!);
            var checks = new Task<RedisResult>[ids.Length];
            for (var i = 0; i < ids.Length; i++)
            {
                checks[i] = _keys.TrySessionKey(ids[i], out var key)
                    ? EvaluateAsync(database, Scripts.Sweep, key, [nowMs])
                    : Task.FromResult<RedisResult>(null!);
            }

            var results = await WithTimeout(Task.WhenAll(checks), start, cancellationToken).ConfigureAwait(false);
            var followUps = new List<Task>(ids.Length * 2);
            for (var i = 0; i < ids.Length; i++)
            {
                var id = ids[i];
                var result = results[i] is { } reply ? (RedisResult[])reply! : [];
                switch (result.Length == 0 ? 0 : (long)result[0])
                {
                    case 2:
                        _memo.Forget(id);
                        var user = (string?)result[1];
                        followUps.Add(database.SortedSetRemoveAsync(_keys.ExpiryIndex, id));
                        if (user is not null)
                        {
                            followUps.Add(database.SortedSetRemoveAsync(_keys.UserKey(user), id));
                        }

                        var session = RedisSessionHash.Decode(id, result, 2, out var error);
                        if (session is not null)
                        {
                            removed.Add(session);
                        }
                        else
                        {
                            Log.UnreadableSession(_logger, OpRemoveExpired, error ?? "the removed hash was empty");
                        }

                        break;
                    case 1:
                        // Slid since it was scheduled: schedule it at its current expiry (and heal its user entry).
                        var expiresMs = (long)result[1];
                        var owner = (string?)result[2];
                        followUps.Add(database.SortedSetAddAsync(_keys.ExpiryIndex, id, expiresMs));
                        if (owner is not null)
                        {
                            followUps.Add(IndexUserAsync(database, _keys.UserKey(owner), id, expiresMs, nowMs));
                        }

                        rescheduled++;
                        break;
                    case 3:
                        Log.ForeignValue(_logger, SessionIdTagger.Tag(id), OpRemoveExpired);
                        followUps.Add(database.SortedSetRemoveAsync(_keys.ExpiryIndex, id));
                        dropped++;
                        break;
                    case -1:
                        Log.UnreadableSession(_logger, OpRemoveExpired, "the hash has no readable expiry or an unsupported format version; left in place");
                        followUps.Add(database.SortedSetRemoveAsync(_keys.ExpiryIndex, id));
                        dropped++;
                        break;
                    default:
                        followUps.Add(database.SortedSetRemoveAsync(_keys.ExpiryIndex, id));
                        dropped++;
                        break;
                }
            }

            await MaintainIndexesAsync(OpRemoveExpired, start, Task.WhenAll(followUps)).ConfigureAwait(false);
        }

        return (rescheduled, dropped);
    }
}
