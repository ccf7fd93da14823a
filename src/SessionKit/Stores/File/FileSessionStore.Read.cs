using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SessionKit.Internal;

namespace SessionKit.Stores;

// Reading session files: lock-free reads of immutable files, parse checks, and quarantine of what cannot be read.
public sealed partial class FileSessionStore
{
    /// <summary>Reads a session without a lock; an unreadable file is re-read under the lock and quarantined.</summary>
    private async ValueTask<Session?> ReadUnlockedAsync(string hash, string? id, CancellationToken cancellationToken)
    {
        var stored = ReadFile(hash, id);
        if (stored.Problem is null)
        {
            return stored.Session;
        }

        // The file may have been replaced since it was read: only the lock holder may judge and move it.
        using var held = await _locks.AcquireAsync(FileStoreLayout.ShardOf(hash), cancellationToken).ConfigureAwait(false);
        return ReadLocked(hash, id);
    }

    /// <summary>Reads a session while holding its shard lock; an unreadable file is quarantined and reads as absent.</summary>
    private Session? ReadLocked(string hash, string? id)
    {
        var stored = ReadFile(hash, id);
        if (stored.Problem is { } problem)
        {
            Quarantine(hash, problem);
            return null;
        }

        return stored.Session;
    }

    /// <summary>Reads and parses one session file. Files are immutable once renamed into place, so no lock is needed for a consistent read.</summary>
    /// <param name="hash">The file's hash name.</param>
    /// <param name="id">The id the file must hold, or <see langword="null"/> to check the content against <paramref name="hash"/>.</param>
    private StoredSession ReadFile(string hash, string? id)
    {
        byte[]? buffer = null;
        try
        {
            int length;
            Microsoft.Win32.SafeHandles.SafeFileHandle handle;
            try
            {
                handle = File.OpenHandle(_layout.SessionPath(hash), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                return default;
            }

            using (handle)
            {
                var fileLength = RandomAccess.GetLength(handle);
                if (fileLength > Array.MaxLength)
                {
                    return new StoredSession(null, "the file is too large to be a session");
                }

                buffer = ArrayPool<byte>.Shared.Rent((int)fileLength);
                length = 0;
                while (length < fileLength)
                {
                    var read = RandomAccess.Read(handle, buffer.AsSpan(length, (int)fileLength - length), length);
                    if (read == 0)
                    {
                        break;
                    }

                    length += read;
                }
            }

            return Parse(buffer.AsSpan(0, length), hash, id);
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static StoredSession Parse(ReadOnlySpan<byte> utf8Json, string hash, string? id)
    {
        Session session;
        try
        {
            session = SessionSerializer.Deserialize(utf8Json);
            _ = session.ExpiresAt;
        }
        catch (SessionFormatException ex)
        {
            return new StoredSession(null, ex.Message);
        }
        catch (Exception ex) when (ex is ArgumentException or OverflowException or InvalidOperationException)
        {
            return new StoredSession(null, "the session document has out-of-range values");
        }

        var belongs = id is not null
            ? string.Equals(session.Id, id, StringComparison.Ordinal)
            : string.Equals(FileStoreLayout.Hash(session.Id), hash, StringComparison.Ordinal);
        return belongs
            ? new StoredSession(session, null)
            : new StoredSession(null, "the file holds a different session than its name says (moved or copied by hand)");
    }

    /// <summary>Moves an unreadable file aside. Caller holds the shard lock.</summary>
    /// <returns><see langword="true"/> when the file was moved.</returns>
    private bool Quarantine(string hash, string problem)
    {
        var tag = FileStoreLayout.Tag(hash);
        var target = _layout.QuarantinePath(hash);
        try
        {
            DurableFile.CreateDirectory(_layout.QuarantineDirectory, changedParents: null);
            File.Move(_layout.SessionPath(hash), target);
            Log.Quarantined(_logger, tag, problem, Path.GetFileName(target));
            return true;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.QuarantineFailed(_logger, tag, problem, ex);
            return false;
        }
    }
}
