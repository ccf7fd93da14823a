using System.IO.Enumeration;
using SessionKit.Internal;

namespace SessionKit.Stores;

public sealed partial class FileSessionStore
{
    private const string CursorPrefix = "f1.";

    private static readonly EnumerationOptions FilesOnly = new()
    {
        RecurseSubdirectories = false,
        IgnoreInaccessible = true,
        AttributesToSkip = FileAttributes.Hidden,
    };

    /// <inheritdoc />
    /// <remarks>
    /// By <see cref="SessionQuery.UserId"/> the cost follows the number of that user's sessions: one marker file per
    /// session under <c>.index/user/</c>, each verified against its session file. By <see cref="SessionQuery.Kind"/>
    /// alone, or without a filter, every shard is walked and every session file read. Pages are in hash order; the
    /// cursor is the last hash returned.
    /// </remarks>
    /// <exception cref="SessionStoreException">The file system failed.</exception>
    public async ValueTask<SessionPage> QueryAsync(SessionQuery query, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var after = DecodeCursor(query.Cursor);
        cancellationToken.ThrowIfCancellationRequested();

        // Compare as stored: the serializer writes an unpaired surrogate as U+FFFD.
        var userId = query.UserId is null ? null : FileStoreLayout.StoredForm(query.UserId);
        var kind = query.Kind is null ? null : FileStoreLayout.StoredForm(query.Kind);
        try
        {
            var candidates = userId is not null ? UserIndexedHashes(userId, after) : AllHashes(after);
            var sessions = new List<Session>(Math.Min(query.Limit, 64));
            var hasMore = false;
            foreach (var hash in candidates)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var session = await ReadUnlockedAsync(hash, id: null, cancellationToken).ConfigureAwait(false);
                if (userId is not null && !string.Equals(session?.UserId, userId, StringComparison.Ordinal))
                {
                    PruneUserIndexEntry(userId, hash);
                    continue;
                }

                if (session is null
                    || !session.IsLiveAt(now)
                    || (kind is not null && !string.Equals(session.Kind, kind, StringComparison.Ordinal)))
                {
                    continue;
                }

                if (sessions.Count == query.Limit)
                {
                    hasMore = true;
                    break;
                }

                sessions.Add(session);
            }

            var next = hasMore ? CursorPrefix + FileStoreLayout.Hash(sessions[^1].Id) : null;
            return new SessionPage(sessions, next);
        }
        catch (Exception ex) when (IsStoreFault(ex))
        {
            throw Failure("query", ex);
        }
    }

    private static string? DecodeCursor(string? cursor)
    {
        if (cursor is null)
        {
            return null;
        }

        if (cursor.StartsWith(CursorPrefix, StringComparison.Ordinal) && FileStoreLayout.IsHash(cursor.AsSpan(CursorPrefix.Length)))
        {
            return cursor[CursorPrefix.Length..];
        }

        throw new ArgumentException("The cursor was not produced by this store.", nameof(cursor));
    }

    /// <summary>The hashes marked under a user, after the cursor, in order.</summary>
    private List<string> UserIndexedHashes(string userId, string? after)
    {
        var hashes = new List<string>();
        try
        {
            foreach (var name in FileNames(_layout.UserIndexDirectory(userId)))
            {
                if (FileStoreLayout.IsHash(name) && (after is null || string.CompareOrdinal(name, after) > 0))
                {
                    hashes.Add(name);
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
            // Nobody with this user id was ever indexed (or the last one left and the directory was removed).
        }

        hashes.Sort(StringComparer.Ordinal);
        return hashes;
    }

    /// <summary>Every session hash after the cursor, shard by shard, in order.</summary>
    private IEnumerable<string> AllHashes(string? after)
    {
        var afterShard = after?[..3];
        foreach (var shard in ShardNames())
        {
            if (afterShard is not null && string.CompareOrdinal(shard, afterShard) < 0)
            {
                continue;
            }

            var hashes = new List<string>();
            try
            {
                foreach (var name in FileNames(Path.Combine(_layout.Root, shard)))
                {
                    if (name.EndsWith(FileStoreLayout.SessionExtension, StringComparison.Ordinal))
                    {
                        var hash = name[..^FileStoreLayout.SessionExtension.Length];
                        if (FileStoreLayout.IsHash(hash) && (after is null || string.CompareOrdinal(hash, after) > 0))
                        {
                            hashes.Add(hash);
                        }
                    }
                }
            }
            catch (DirectoryNotFoundException)
            {
                continue;
            }

            hashes.Sort(StringComparer.Ordinal);
            foreach (var hash in hashes)
            {
                yield return hash;
            }
        }
    }

    /// <summary>The names of the shard directories that exist, in order.</summary>
    private List<string> ShardNames()
    {
        var shards = new List<string>();
        var enumerable = new FileSystemEnumerable<string>(
            _layout.Root,
            static (ref FileSystemEntry entry) => entry.FileName.ToString(),
            FilesOnly)
        {
            ShouldIncludePredicate = static (ref FileSystemEntry entry) => entry.IsDirectory && FileStoreLayout.IsShardName(entry.FileName),
        };
        shards.AddRange(enumerable);
        shards.Sort(StringComparer.Ordinal);
        return shards;
    }

    private static FileSystemEnumerable<string> FileNames(string directory) =>
        new(directory, static (ref FileSystemEntry entry) => entry.FileName.ToString(), FilesOnly)
        {
            ShouldIncludePredicate = static (ref FileSystemEntry entry) => !entry.IsDirectory,
        };

    /// <summary>Makes sure the session's user marker exists; records the directories whose entries changed. Caller holds the shard lock.</summary>
    private void EnsureUserIndexEntry(string hash, Session session, List<string>? dirty)
    {
        if (session.UserId is null)
        {
            return;
        }

        var directory = _layout.UserIndexDirectory(session.UserId);
        var marker = Path.Combine(directory, hash);
        if (File.Exists(marker))
        {
            return;
        }

        // Another shard's last marker removal may delete the directory between our create and our write: retry.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                DurableFile.CreateNew(marker).Dispose();
                if (dirty is not null && !dirty.Contains(directory))
                {
                    dirty.Add(directory);
                }

                return;
            }
            catch (DirectoryNotFoundException) when (attempt < 3)
            {
                DurableFile.CreateDirectory(directory, dirty);
            }
        }
    }

    /// <summary>Removes the user marker <paramref name="previous"/> had if <paramref name="next"/> does not need it. Caller holds the shard lock.</summary>
    private void RemoveStaleUserIndexEntry(string hash, Session previous, Session? next)
    {
        // previous was read back from its file, so its user id is already in stored form.
        if (previous.UserId is not null
            && (next?.UserId is null || !string.Equals(previous.UserId, FileStoreLayout.StoredForm(next.UserId), StringComparison.Ordinal)))
        {
            RemoveUserIndexEntry(previous.UserId, hash);
        }
    }

    /// <summary>
    /// Removes one marker and, when it was the last, its directory. Failure only leaves a stale marker, which queries
    /// skip and prune, so it is logged rather than thrown. Caller holds the shard lock.
    /// </summary>
    private void RemoveUserIndexEntry(string userId, string hash)
    {
        var directory = _layout.UserIndexDirectory(userId);
        try
        {
            File.Delete(Path.Combine(directory, hash));
            if (!FileNames(directory).Any())
            {
                Directory.Delete(directory);
            }
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Typically a marker created by another shard's writer since we looked: the directory is not empty.
            if (File.Exists(Path.Combine(directory, hash)))
            {
                Log.IndexEntryNotRemoved(_logger, FileStoreLayout.Tag(hash), ex);
            }
        }
    }

    /// <summary>
    /// Removes a marker whose session is gone or belongs to another user now, if the shard lock is free right now (the
    /// session's writer may be between writing the marker and renaming the file in; it holds the lock until done).
    /// </summary>
    private void PruneUserIndexEntry(string userId, string hash)
    {
        using var held = _locks.TryAcquire(FileStoreLayout.ShardOf(hash));
        if (held is null)
        {
            return;
        }

        var stored = ReadFile(hash, id: null);
        if (stored.Problem is null && !string.Equals(stored.Session?.UserId, userId, StringComparison.Ordinal))
        {
            RemoveUserIndexEntry(userId, hash);
            Log.StaleIndexEntryRemoved(_logger, FileStoreLayout.Tag(hash));
        }
    }
}
