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
    /// By <see cref="SessionQuery.UserId"/> or <see cref="SessionQuery.Kind"/> the cost follows the number of sessions
    /// with that user or kind (one marker per session, each verified against its file). Without a filter every shard
    /// is walked in hash order. Pages are in hash order; the cursor is the last hash returned.
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
        var (index, value) = userId is not null ? (FileStoreLayout.UserIndex, userId)
            : kind is not null ? (FileStoreLayout.KindIndex, kind)
            : (null, null);
        try
        {
            var candidates = index is not null ? IndexedHashes(index, value!, after) : AllHashes(after);
            var sessions = new List<Session>(Math.Min(query.Limit, 64));
            var hasMore = false;
            foreach (var hash in candidates)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var session = await ReadUnlockedAsync(hash, id: null, cancellationToken).ConfigureAwait(false);
                if (index is not null && !string.Equals(IndexedValue(session, index), value, StringComparison.Ordinal))
                {
                    PruneIndexEntry(index, value!, hash);
                    continue;
                }

                if (session is null
                    || !session.IsLiveAt(now)
                    || (userId is not null && !string.Equals(session.UserId, userId, StringComparison.Ordinal))
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

    private static string? IndexedValue(Session? session, string index) =>
        session is null ? null : index == FileStoreLayout.UserIndex ? session.UserId : session.Kind;

    /// <summary>The hashes marked under an index value, after the cursor, in order.</summary>
    private List<string> IndexedHashes(string index, string value, string? after)
    {
        var hashes = new List<string>();
        try
        {
            foreach (var name in FileNames(_layout.IndexValueDirectory(index, value)))
            {
                if (FileStoreLayout.IsHash(name) && (after is null || string.CompareOrdinal(name, after) > 0))
                {
                    hashes.Add(name);
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
            // Nobody with this value was ever indexed (or the last one left and the directory was removed).
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

    /// <summary>Makes sure the session's user and kind markers exist; records directories whose entries changed. Caller holds the shard lock.</summary>
    private void EnsureIndexEntries(string hash, Session session, List<string>? dirty)
    {
        EnsureIndexEntry(FileStoreLayout.UserIndex, session.UserId, hash, dirty);
        EnsureIndexEntry(FileStoreLayout.KindIndex, session.Kind, hash, dirty);
    }

    private void EnsureIndexEntry(string index, string? value, string hash, List<string>? dirty)
    {
        if (value is null)
        {
            return;
        }

        var directory = _layout.IndexValueDirectory(index, value);
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

    /// <summary>Removes the markers <paramref name="previous"/> had and <paramref name="next"/> does not. Caller holds the shard lock.</summary>
    private void RemoveStaleIndexEntries(string hash, Session previous, Session? next)
    {
        if (previous.UserId is not null && !SameStoredValue(previous.UserId, next?.UserId))
        {
            RemoveIndexEntry(FileStoreLayout.UserIndex, previous.UserId, hash);
        }

        if (previous.Kind is not null && !SameStoredValue(previous.Kind, next?.Kind))
        {
            RemoveIndexEntry(FileStoreLayout.KindIndex, previous.Kind, hash);
        }
    }

    private static bool SameStoredValue(string stored, string? next) =>
        next is not null && string.Equals(stored, FileStoreLayout.StoredForm(next), StringComparison.Ordinal);

    /// <summary>
    /// Removes one marker and, when it was the last, its directory. Failure only leaves a stale marker, which queries
    /// skip and prune, so it is logged rather than thrown. Caller holds the shard lock.
    /// </summary>
    private void RemoveIndexEntry(string index, string value, string hash)
    {
        var directory = _layout.IndexValueDirectory(index, value);
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
                Log.IndexEntryNotRemoved(_logger, index, FileStoreLayout.Tag(hash), ex);
            }
        }
    }

    /// <summary>
    /// Removes a marker whose session is gone or no longer has the value, if the shard lock is free right now (the
    /// session's writer may be between writing the marker and renaming the file in; it holds the lock until done).
    /// </summary>
    private void PruneIndexEntry(string index, string value, string hash)
    {
        using var held = _locks.TryAcquire(FileStoreLayout.ShardOf(hash));
        if (held is null)
        {
            return;
        }

        var stored = ReadFile(hash, id: null);
        if (stored.Problem is null && !string.Equals(IndexedValue(stored.Session, index), value, StringComparison.Ordinal))
        {
            RemoveIndexEntry(index, value, hash);
            Log.StaleIndexEntryRemoved(_logger, index, FileStoreLayout.Tag(hash));
        }
    }
}
