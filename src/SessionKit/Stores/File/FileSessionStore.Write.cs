using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SessionKit.Internal;

namespace SessionKit.Stores;

// Writing session files: a unique temp file in the shard, flushed, then renamed over the old one (atomic); deletes.
public sealed partial class FileSessionStore
{
    /// <summary>
    /// Replaces a session file atomically: user index marker first (the index is a superset), then temp file, flush,
    /// rename, directory flush, then the marker the new version no longer needs. Caller holds the shard lock.
    /// </summary>
    private void WriteLocked(string hash, Session session, Session? previous)
    {
        var bytes = SessionSerializer.SerializeToUtf8Bytes(session);
        var dirty = _flushToDisk ? new List<string>(2) : null;
        EnsureUserIndexEntry(hash, session, dirty);
        var shardDirectory = _layout.ShardDirectory(hash);
        string? temp = WriteTemp(hash, shardDirectory, bytes, ExpiryHint(session), dirty);
        try
        {
            if (dirty is not null)
            {
                // After the temp file's flush: on journaling file systems these usually find nothing left to commit.
                foreach (var directory in dirty)
                {
                    DurableFile.FlushDirectory(directory);
                }
            }

            File.Move(temp, _layout.SessionPath(hash), overwrite: true);
            temp = null;
        }
        finally
        {
            if (temp is not null)
            {
                TryDeleteFile(temp);
            }
        }

        if (_flushToDisk)
        {
            DurableFile.FlushDirectory(shardDirectory);
        }

        if (previous is not null)
        {
            RemoveStaleUserIndexEntry(hash, previous, session);
        }
    }

    private string WriteTemp(string hash, string shardDirectory, byte[] bytes, DateTime expiryHint, List<string>? dirty)
    {
        for (var attempt = 0; ; attempt++)
        {
            var temp = _layout.TempPath(hash);
            FileStream stream;
            try
            {
                stream = DurableFile.CreateNew(temp);
            }
            catch (DirectoryNotFoundException) when (attempt == 0)
            {
                DurableFile.CreateDirectory(shardDirectory, dirty);
                continue;
            }

            try
            {
                using (stream)
                {
                    stream.Write(bytes);
                    File.SetLastWriteTimeUtc(stream.SafeFileHandle, expiryHint);
                    if (_flushToDisk)
                    {
                        stream.Flush(flushToDisk: true);
                    }
                }

                return temp;
            }
            catch
            {
                TryDeleteFile(temp);
                throw;
            }
        }
    }

    /// <summary>Deletes a session file and then its user index marker. Caller holds the shard lock.</summary>
    private void DeleteLocked(string hash, Session current, bool flush)
    {
        File.Delete(_layout.SessionPath(hash));
        if (flush)
        {
            DurableFile.FlushDirectory(_layout.ShardDirectory(hash));
        }

        RemoveStaleUserIndexEntry(hash, current, next: null);
    }

    /// <summary>The modification time a session file gets: its expiry, never later (file systems truncate, which only makes it earlier).</summary>
    private static DateTime ExpiryHint(Session session)
    {
        var expires = session.ExpiresAt.UtcDateTime;
        return expires < DateTime.UnixEpoch ? DateTime.UnixEpoch : expires;
    }

    private static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the sweep, which removes temporary files that no lock holder owns.
        }
    }

    private readonly record struct StoredSession(Session? Session, string? Problem);
}
