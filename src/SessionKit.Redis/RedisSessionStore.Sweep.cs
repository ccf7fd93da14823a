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
    /// Reads due ids from the buckets' expiry sets, then runs one compare-and-delete script per id (pipelined): a
    /// session is deleted only if its hash is still expired at <paramref name="now"/>, so a touch racing the sweep wins.
    /// Removed sessions leave both indexes; sessions slid since they were scheduled are re-scored; entries whose hash
    /// is gone are dropped.
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

    /// <summary>
    /// Runs the sweep's rounds, adding what it deletes to <paramref name="removed"/> as it goes. A round reads the due
    /// entries of every bucket still in play (pipelined, a few per bucket), then runs the compare-and-delete script on
    /// each; a bucket that filled its share may hold more and stays in play for the next round.
    /// </summary>
    private async Task<(int Rescheduled, int Dropped)> SweepAsync(IDatabase database, long nowMs, int maxCount, List<Session> removed, long start, CancellationToken cancellationToken)
    {
        int rescheduled = 0, dropped = 0;
        var buckets = Enumerable.Range(0, RedisKeyspace.BucketCount).ToList();
        for (var round = 0; round < MaxSweepRounds && removed.Count < maxCount && buckets.Count > 0; round++)
        {
            var wanted = maxCount - removed.Count;
            var share = (int)Math.Min(Math.Max((2L * wanted + buckets.Count - 1) / buckets.Count, 4), wanted);
            var reads = new Task<RedisValue[]>[buckets.Count];
            for (var i = 0; i < buckets.Count; i++)
            {
                reads[i] = database.SortedSetRangeByScoreAsync(_keys.ExpiryKey(buckets[i]), double.NegativeInfinity, nowMs, take: share);
            }

            var replies = await WithTimeout(Task.WhenAll(reads), start, cancellationToken).ConfigureAwait(false);
            var due = new List<(int Bucket, string Id)>();
            var full = new List<int>();
            for (var i = 0; i < buckets.Count; i++)
            {
                var complete = true;
                foreach (var member in replies[i])
                {
                    if (due.Count < wanted)
                    {
                        due.Add((buckets[i], (string)member!));
                    }
                    else
                    {
                        complete = false;
                    }
                }

                if (replies[i].Length == share || !complete)
                {
                    full.Add(buckets[i]);
                }
            }

            buckets = full;
            if (due.Count == 0)
            {
                break;
            }

            var checks = new Task<RedisResult>[due.Count];
            for (var i = 0; i < due.Count; i++)
            {
                var (bucket, id) = due[i];
                checks[i] = _keys.TrySessionKey(id, out var key)
                    ? EvaluateAsync(database, Scripts.Sweep, [key, _keys.ExpiryKey(bucket)], [nowMs, id])
                    : database.SortedSetRemoveAsync(_keys.ExpiryKey(bucket), id).ContinueWith(static _ => RedisResult.Create(0L), TaskScheduler.Default);
            }

            var results = await WithTimeout(Task.WhenAll(checks), start, cancellationToken).ConfigureAwait(false);
            var followUps = new List<Task>();
            for (var i = 0; i < due.Count; i++)
            {
                var id = due[i].Id;
                var result = (RedisResult[])results[i]! ?? [];
                switch (result.Length == 0 ? 0 : (long)result[0])
                {
                    case 2:
                        _memo.Forget(id);
                        if ((string?)result[1] is { } user)
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
                        // Slid since it was scheduled: the script re-scored it; heal its user entry too.
                        if ((string?)result[2] is { } owner)
                        {
                            followUps.Add(IndexUserAsync(database, _keys.UserKey(owner), id, (long)result[1], nowMs));
                        }

                        rescheduled++;
                        break;
                    case 3:
                        Log.ForeignValue(_logger, SessionIdTagger.Tag(id), OpRemoveExpired);
                        dropped++;
                        break;
                    case -1:
                        Log.UnreadableSession(_logger, OpRemoveExpired, "the hash has no readable expiry or an unsupported format version; left in place");
                        dropped++;
                        break;
                    default:
                        dropped++;
                        break;
                }
            }

            if (followUps.Count > 0)
            {
                await MaintainIndexesAsync(OpRemoveExpired, start, Task.WhenAll(followUps)).ConfigureAwait(false);
            }
        }

        return (rescheduled, dropped);
    }
}
