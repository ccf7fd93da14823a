using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SessionKit.Internal;

namespace SessionKit.Stores;

/// <summary>
/// A durable store on one machine: one JSON file per session under a root directory, shared safely by every process
/// that points at the same directory, and surviving <c>kill -9</c> at any instant without a corrupt session.
/// </summary>
/// <remarks>
/// <para><b>Layout.</b> A session lives in <c>root/abc/&lt;sha256(id)&gt;.json</c>, where <c>abc</c> is the first three hex
/// digits of the hash (4096 shards, so no directory holds millions of files). Ids never appear in paths and no input
/// can name a path outside the root. Directories are created 0700 and files 0600 on Unix.</para>
/// <para><b>Writes.</b> Every write goes to a uniquely named temporary file in the session's directory (created with
/// O_EXCL), is flushed to disk, renamed over the session file (atomic), and the directory is flushed
/// (<see cref="FileSessionStoreOptions.FlushToDisk"/>). A reader therefore sees the old or the new file, never a part.
/// The file's modification time is set to the session's expiry, so the sweep finds candidates without reading files.</para>
/// <para><b>Across processes.</b> Create-if-absent, touch, update-if-exists (with compare-and-set and per-key merge),
/// delete and the sweep's compare-and-delete each hold the session's shard lock for their whole read-check-write:
/// an in-process async gate, then an exclusive OS lock on <c>root/.locks/abc.lock</c> (<see cref="FileShare.None"/>,
/// which .NET implements with <c>flock(LOCK_EX)</c> on Unix and a sharing lock on Windows). The kernel drops the lock
/// when its holder dies, so a killed process never leaves a stale lock, and the store checks at start that the lock
/// really excludes (it does not on NFS or with <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c>). Reads (get, exists, query)
/// take no lock: the atomic rename gives them a consistent file.</para>
/// <para><b>Bad files.</b> A corrupt, truncated, foreign, misplaced or future-format file is treated as absent, logged
/// (by a short tag of its hash, never the id) and moved to <c>root/.quarantine/</c> under the shard lock; every other
/// session keeps working.</para>
/// <para><b>Queries.</b> By user, a query lists the marker files of <c>root/.index/user/…/</c> (a superset index written,
/// and flushed, before the session file that it points to) and verifies each session; stale markers are pruned. Its
/// cost follows the number of that user's sessions. By kind alone, or without a filter, it walks every shard.</para>
/// <para>File I/O is synchronous (as it is on Unix in .NET anyway); only lock waits are asynchronous.</para>
/// </remarks>
public sealed partial class FileSessionStore : ISessionStore
{
    private const string LayoutSignature = "sessionkit-file-store ";

    private readonly FileStoreLayout _layout;
    private readonly FileStoreShardLocks _locks;
    private readonly ILogger _logger;
    private readonly bool _flushToDisk;
    private readonly int _sweepBatchSize;

    /// <summary>Opens (creating if needed) a file store configured through options.</summary>
    /// <param name="options">The options.</param>
    /// <param name="loggerFactory">The logger factory; <see langword="null"/> for no logging.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="OptionsValidationException">The options are invalid.</exception>
    /// <exception cref="SessionStoreException">The directory cannot be created or used, holds another layout, or its file system does not enforce exclusive locks.</exception>
    public FileSessionStore(IOptions<FileSessionStoreOptions> options, ILoggerFactory? loggerFactory = null)
        : this(Unwrap(options), loggerFactory)
    {
    }

    /// <summary>Opens (creating if needed) a file store.</summary>
    /// <param name="options">The options.</param>
    /// <param name="loggerFactory">The logger factory; <see langword="null"/> for no logging.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="OptionsValidationException">The options are invalid.</exception>
    /// <exception cref="SessionStoreException">The directory cannot be created or used, holds another layout, or its file system does not enforce exclusive locks.</exception>
    public FileSessionStore(FileSessionStoreOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var validation = new FileSessionStoreOptionsValidator().Validate(Options.DefaultName, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(FileSessionStoreOptions), validation.Failures);
        }

        _layout = new FileStoreLayout(Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.Directory)));
        _locks = new FileStoreShardLocks(_layout, options.LockTimeout);
        _logger = (ILogger?)loggerFactory?.CreateLogger<FileSessionStore>() ?? NullLogger.Instance;
        _flushToDisk = options.FlushToDisk;
        _sweepBatchSize = options.SweepBatchSize;
        try
        {
            Open();
        }
        catch (Exception ex) when (IsStoreFault(ex))
        {
            throw new SessionStoreException(Name, "open", $"Could not open the store directory '{_layout.Root}': {ex.Message}", ex);
        }

        Log.Opened(_logger, _layout.Root, FileStoreLayout.LayoutVersion, _flushToDisk);
    }

    /// <inheritdoc />
    public string Name => "file";

    /// <inheritdoc />
    /// <exception cref="SessionStoreException">The file system failed or the shard lock timed out.</exception>
    public async ValueTask<bool> CreateAsync(Session session, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentException.ThrowIfNullOrEmpty(session.Id, nameof(session));
        WellFormedText.ThrowIfIllFormed(session, nameof(session));
        if (!FileStoreLayout.IsStorable(session.Id))
        {
            throw new ArgumentException("The session id contains an unpaired surrogate, which JSON cannot store; it would not read back as itself.", nameof(session));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var hash = FileStoreLayout.Hash(session.Id);
        try
        {
            using var held = await _locks.AcquireAsync(FileStoreLayout.ShardOf(hash), cancellationToken).ConfigureAwait(false);
            var current = ReadLocked(hash, session.Id);
            if (current is not null && current.IsLiveAt(now))
            {
                return false;
            }

            WriteLocked(hash, session, current);
            return true;
        }
        catch (Exception ex) when (IsStoreFault(ex))
        {
            throw Failure("create", ex);
        }
    }

    /// <inheritdoc />
    /// <exception cref="SessionStoreException">The file system failed.</exception>
    public async ValueTask<Session?> GetAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!FileStoreLayout.IsStorable(id))
        {
            return null;
        }

        try
        {
            var session = await ReadUnlockedAsync(FileStoreLayout.Hash(id), id, cancellationToken).ConfigureAwait(false);
            return session is not null && session.IsLiveAt(now) ? session : null;
        }
        catch (Exception ex) when (IsStoreFault(ex))
        {
            throw Failure("get", ex);
        }
    }

    /// <inheritdoc />
    /// <exception cref="SessionStoreException">The file system failed.</exception>
    public async ValueTask<bool> ExistsAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!FileStoreLayout.IsStorable(id))
        {
            return false;
        }

        try
        {
            var session = await ReadUnlockedAsync(FileStoreLayout.Hash(id), id, cancellationToken).ConfigureAwait(false);
            return session is not null && session.IsLiveAt(now);
        }
        catch (Exception ex) when (IsStoreFault(ex))
        {
            throw Failure("exists", ex);
        }
    }

    /// <inheritdoc />
    /// <exception cref="SessionStoreException">The file system failed or the shard lock timed out.</exception>
    public ValueTask<bool> TouchAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        WithLockedSessionAsync(id, now, "touch", false, now, static (store, hash, current, now) =>
        {
            if (now > current.LastAccessedAt)
            {
                store.WriteLocked(hash, current with { LastAccessedAt = now }, current);
            }

            return true;
        }, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="SessionStoreException">The file system failed or the shard lock timed out.</exception>
    public ValueTask<SessionUpdateResult> UpdateAsync(string id, SessionChanges changes, DateTimeOffset now, long maxStateBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        WellFormedText.ThrowIfIllFormed(changes, nameof(changes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxStateBytes);
        return WithLockedSessionAsync(id, now, "update", SessionUpdateResult.NotFound, (changes, now, maxStateBytes), static (store, hash, current, args) =>
        {
            if (current.IsForwarder)
            {
                return SessionUpdateResult.Forwarded(current);
            }

            if (args.changes.ExpectedVersion is { } expected && expected != current.Version)
            {
                return SessionUpdateResult.Conflict(current.Version);
            }

            var updated = args.changes.ApplyWithinLimit(current, args.now, args.maxStateBytes);
            store.WriteLocked(hash, updated, current);
            return SessionUpdateResult.Updated(updated);
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="SessionStoreException">The file system failed or the shard lock timed out.</exception>
    public ValueTask<Session?> DeleteAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        WithLockedSessionAsync<bool, Session?>(id, now, "delete", null, false, static (store, hash, current, _) =>
        {
            // A logout must not come back after a power loss: flush the directory before acknowledging.
            store.DeleteLocked(hash, current, flush: store._flushToDisk);
            return current;
        }, cancellationToken, liveOnly: false);

    /// <summary>
    /// The skeleton every conditional write shares: lock the id's shard, read the session, check it is live, act, and
    /// map file-system failures to <see cref="SessionStoreException"/>.
    /// </summary>
    /// <param name="id">The session id.</param>
    /// <param name="now">The current time.</param>
    /// <param name="operation">The operation's name, for the failure.</param>
    /// <param name="absent">The answer when no live session has the id.</param>
    /// <param name="state">State for <paramref name="action"/>.</param>
    /// <param name="action">The write, run under the lock with the session as stored.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <param name="liveOnly"><see langword="false"/> to act on an expired record too (delete removes it; the answer is still <paramref name="absent"/>).</param>
    private async ValueTask<TResult> WithLockedSessionAsync<TState, TResult>(
        string id,
        DateTimeOffset now,
        string operation,
        TResult absent,
        TState state,
        Func<FileSessionStore, string, Session, TState, TResult> action,
        CancellationToken cancellationToken,
        bool liveOnly = true)
    {
        ArgumentNullException.ThrowIfNull(id);
        cancellationToken.ThrowIfCancellationRequested();
        if (!FileStoreLayout.IsStorable(id))
        {
            return absent;
        }

        var hash = FileStoreLayout.Hash(id);
        try
        {
            using var held = await _locks.AcquireAsync(FileStoreLayout.ShardOf(hash), cancellationToken).ConfigureAwait(false);
            var current = ReadLocked(hash, id);
            if (current is null)
            {
                return absent;
            }

            var live = current.IsLiveAt(now);
            if (!live && liveOnly)
            {
                return absent;
            }

            var result = action(this, hash, current, state);
            return live ? result : absent;
        }
        catch (Exception ex) when (IsStoreFault(ex))
        {
            throw Failure(operation, ex);
        }
    }

    private static FileSessionStoreOptions Unwrap(IOptions<FileSessionStoreOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Value;
    }

    private static bool IsStoreFault(Exception exception) =>
        exception is IOException or UnauthorizedAccessException or TimeoutException;

    private SessionStoreException Failure(string operation, Exception exception) =>
        new(Name, operation, exception.Message, exception);

    private void Open()
    {
        var changed = new List<string>();
        DurableFile.CreateDirectory(_layout.Root, changed);
        try
        {
            DurableFile.RestrictToOwner(_layout.Root);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.PermissionsNotRestricted(_logger, ex);
        }

        CheckLayout();
        DurableFile.CreateDirectory(_layout.LockDirectory, changed);
        DurableFile.CreateDirectory(_layout.QuarantineDirectory, changed);
        DurableFile.CreateDirectory(_layout.IndexDirectory, changed);
        if (!_locks.VerifyExclusion())
        {
            throw new IOException(
                "The file system does not enforce exclusive file locks here (FileShare.None did not exclude a second open), so the store "
                + "could not keep its guarantees across processes. Is DOTNET_SYSTEM_IO_DISABLEFILELOCKING set, or is the directory on a network file system?");
        }

        if (_flushToDisk)
        {
            foreach (var directory in changed.Distinct(StringComparer.Ordinal))
            {
                DurableFile.FlushDirectory(directory);
            }
        }
    }

    /// <summary>Writes the layout marker on first use and refuses a directory written with another layout.</summary>
    private void CheckLayout()
    {
        var expected = LayoutSignature + FileStoreLayout.LayoutVersion.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n";
        if (!File.Exists(_layout.LayoutFile))
        {
            // Every writer of this layout writes the same bytes, so a race between two starting processes is harmless.
            var temp = _layout.LayoutFile + "." + FileStoreLayout.RandomHex(8) + FileStoreLayout.TempExtension;
            using (var stream = DurableFile.CreateNew(temp))
            {
                stream.Write(System.Text.Encoding.UTF8.GetBytes(expected));
                stream.Flush(flushToDisk: _flushToDisk);
            }

            File.Move(temp, _layout.LayoutFile, overwrite: true);
            return;
        }

        var actual = File.ReadAllText(_layout.LayoutFile);
        if (!string.Equals(actual, expected, StringComparison.Ordinal))
        {
            throw new IOException(actual.StartsWith(LayoutSignature, StringComparison.Ordinal)
                ? $"The directory holds a file store of layout '{actual.Trim()}'; this release reads layout {FileStoreLayout.LayoutVersion}."
                : "The directory's .layout file was not written by SessionKit.");
        }
    }

}
