using System.IO.Enumeration;
using SessionKit.Internal;

namespace SessionKit.Stores;

public sealed partial class FileSessionStore
{
    private static readonly int TempNameLength = FileStoreLayout.HashLength + 1 + 16 + FileStoreLayout.TempExtension.Length;

    // The shard the next sweep starts at, so successive calls walk the whole store instead of its first shards.
    private string? _sweepResumeShard;

    /// <inheritdoc />
    /// <remarks>See <see cref="SweepAsync"/>; this returns only the removed sessions.</remarks>
    /// <exception cref="SessionStoreException">The file system failed or a shard lock timed out.</exception>
    public async ValueTask<IReadOnlyList<Session>> RemoveExpiredAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken = default) =>
        (await SweepAsync(now, maxCount, cancellationToken).ConfigureAwait(false)).RemovedSessions;

    /// <summary>
    /// Removes up to <paramref name="maxCount"/> expired sessions and the temporary files crashed writers left behind,
    /// visiting about <see cref="FileSessionStoreOptions.SweepBatchSize"/> directory entries; the next call resumes
    /// where this one stopped.
    /// </summary>
    /// <remarks>
    /// <para>Candidates come from the directory listing alone: each session file's modification time is its expiry. Each
    /// candidate is then re-read under its shard lock and deleted only if it is still expired at <paramref name="now"/>,
    /// so a session touched or updated (by any process) since the listing is never removed.</para>
    /// <para>A temporary file is a write in progress only while its writer holds the shard lock, so every temporary file
    /// found while the sweep holds that lock was left by a writer that died; the sweep deletes it. No clock or age
    /// threshold is involved.</para>
    /// </remarks>
    /// <param name="now">The current time.</param>
    /// <param name="maxCount">The most sessions to remove in this call.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The removed sessions and the counts of what else was cleaned.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxCount"/> is not positive.</exception>
    /// <exception cref="SessionStoreException">The file system failed or a shard lock timed out.</exception>
    internal async ValueTask<FileSessionSweepResult> SweepAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        var removed = new List<Session>();
        int visited = 0, tempFiles = 0, quarantined = 0;
        var passCompleted = false;
        try
        {
            var shards = ShardNames();
            var start = StartIndex(shards, Volatile.Read(ref _sweepResumeShard));
            for (var i = 0; i < shards.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var shard = shards[(start + i) % shards.Count];
                var scan = ScanShard(shard, now);
                visited += scan.Entries;
                var finished = true;
                if (scan.Expired.Count > 0 || scan.Temps.Count > 0)
                {
                    // A shard with only temporary files is not worth waiting for: if its lock is busy, a writer is at work.
                    using var held = scan.Expired.Count > 0
                        ? await _locks.AcquireAsync(Convert.ToInt32(shard, 16), cancellationToken).ConfigureAwait(false)
                        : _locks.TryAcquire(Convert.ToInt32(shard, 16));
                    if (held is not null)
                    {
                        tempFiles += RemoveOrphanedTemps(shard, scan.Temps);
                        finished = RemoveExpiredLocked(scan.Expired, now, maxCount, removed, ref quarantined);
                    }
                }

                if (!finished)
                {
                    Volatile.Write(ref _sweepResumeShard, shard);
                    break;
                }

                Volatile.Write(ref _sweepResumeShard, shards[(start + i + 1) % shards.Count]);
                passCompleted |= (start + i) % shards.Count == shards.Count - 1;
                if (removed.Count >= maxCount || visited >= _sweepBatchSize)
                {
                    break;
                }
            }

            passCompleted |= shards.Count == 0;
        }
        catch (Exception ex) when (IsStoreFault(ex))
        {
            throw Failure("remove_expired", ex);
        }

        Log.Swept(_logger, visited, removed.Count, tempFiles, quarantined, passCompleted);
        return new FileSessionSweepResult(removed, tempFiles, quarantined, visited, passCompleted);
    }

    private static int StartIndex(List<string> shards, string? resumeShard)
    {
        if (resumeShard is null)
        {
            return 0;
        }

        var index = shards.BinarySearch(resumeShard, StringComparer.Ordinal);
        index = index >= 0 ? index : ~index;
        return index < shards.Count ? index : 0;
    }

    /// <summary>Lists one shard: session files whose modification time (their expiry) is due, and temporary files.</summary>
    private ShardScan ScanShard(string shard, DateTimeOffset now)
    {
        var scan = new ShardScan();
        var entries = new FileSystemEnumerable<(string? Name, bool IsTemp)>(
            Path.Combine(_layout.Root, shard),
            (ref FileSystemEntry entry) =>
            {
                scan.Entries++;
                var name = entry.FileName;
                if (name.Length == FileStoreLayout.HashLength + FileStoreLayout.SessionExtension.Length
                    && name.EndsWith(FileStoreLayout.SessionExtension, StringComparison.Ordinal)
                    && FileStoreLayout.IsHash(name[..FileStoreLayout.HashLength]))
                {
                    return entry.LastWriteTimeUtc <= now ? (name[..FileStoreLayout.HashLength].ToString(), false) : (null, false);
                }

                return IsTempName(name, shard) ? (name.ToString(), true) : (null, false);
            },
            FilesOnly)
        {
            ShouldIncludePredicate = static (ref FileSystemEntry entry) => !entry.IsDirectory,
        };
        try
        {
            foreach (var (name, isTemp) in entries)
            {
                if (name is not null)
                {
                    (isTemp ? scan.Temps : scan.Expired).Add(name);
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
        }

        return scan;
    }

    private static bool IsTempName(ReadOnlySpan<char> name, string shard) =>
        name.Length == TempNameLength
        && name.StartsWith(shard, StringComparison.Ordinal)
        && name.EndsWith(FileStoreLayout.TempExtension, StringComparison.Ordinal)
        && name[FileStoreLayout.HashLength] == '.'
        && FileStoreLayout.IsHash(name[..FileStoreLayout.HashLength]);

    /// <summary>Deletes temporary files found in a shard whose lock the caller holds: no live writer owns them.</summary>
    private int RemoveOrphanedTemps(string shard, List<string> temps)
    {
        var count = 0;
        foreach (var name in temps)
        {
            var path = Path.Combine(_layout.Root, shard, name);
            if (File.Exists(path))
            {
                File.Delete(path);
                count++;
            }
        }

        if (count > 0)
        {
            Log.OrphanedTempFilesRemoved(_logger, count, shard);
        }

        return count;
    }

    /// <summary>Re-checks and deletes expired candidates of a shard whose lock the caller holds.</summary>
    /// <returns><see langword="false"/> when <paramref name="maxCount"/> was reached before every candidate was handled.</returns>
    private bool RemoveExpiredLocked(List<string> candidates, DateTimeOffset now, int maxCount, List<Session> removed, ref int quarantined)
    {
        foreach (var hash in candidates)
        {
            if (removed.Count >= maxCount)
            {
                return false;
            }

            var stored = ReadFile(hash, id: null);
            if (stored.Problem is { } problem)
            {
                quarantined += Quarantine(hash, problem) ? 1 : 0;
                continue;
            }

            if (stored.Session is not { } session)
            {
                continue;
            }

            if (session.IsLiveAt(now))
            {
                // Rewritten since the listing (it has its new expiry already), or its time was changed by another tool:
                // restore the hint so the next passes skip it without reading it.
                File.SetLastWriteTimeUtc(_layout.SessionPath(hash), ExpiryHint(session));
                continue;
            }

            // No directory flush: an expired session that reappears after a power loss is still expired, and swept again.
            DeleteLocked(hash, session, flush: false);
            removed.Add(session);
        }

        return true;
    }

    private sealed class ShardScan
    {
        public int Entries { get; set; }

        public List<string> Expired { get; } = [];

        public List<string> Temps { get; } = [];
    }
}
