namespace SessionKit.Internal;

/// <summary>
/// Mutual exclusion per shard, inside the process and across processes: an async gate (so waiting callers do not
/// block threads), then an exclusive OS lock on the shard's lock file, held for the whole read-check-write.
/// </summary>
/// <remarks>
/// The OS lock is taken by opening the lock file with <see cref="FileShare.None"/>: .NET maps that to
/// <c>flock(LOCK_EX | LOCK_NB)</c> on Unix and to a sharing lock on Windows. <c>flock</c> belongs to the open file
/// description, so it excludes other processes and other opens in this process alike, and the kernel releases it when
/// the holder dies (even by SIGKILL): a crashed writer never leaves a stale lock. Lock files are never deleted, because
/// deleting a lock file while someone waits on it would let two holders lock two different files.
/// </remarks>
internal sealed class FileStoreShardLocks(FileStoreLayout layout, TimeSpan timeout)
{
    private const int MaxBackoffMilliseconds = 16;

    private readonly SemaphoreSlim?[] _gates = new SemaphoreSlim?[FileStoreLayout.ShardCount];
    private readonly int _timeoutMilliseconds = (int)timeout.TotalMilliseconds;

    /// <summary>Waits for the shard's lock.</summary>
    /// <exception cref="TimeoutException">The lock was not acquired within the timeout.</exception>
    public async ValueTask<ShardLock> AcquireAsync(int shard, CancellationToken cancellationToken)
    {
        var gate = Gate(shard);
        if (!await gate.WaitAsync(_timeoutMilliseconds, cancellationToken).ConfigureAwait(false))
        {
            throw new TimeoutException($"Timed out after {_timeoutMilliseconds} ms waiting for shard {FileStoreLayout.ShardName(shard)} (held in this process).");
        }

        try
        {
            // Another process holds the OS lock: poll with a short backoff. The budget counts the delays slept, so the
            // real wait is at least the timeout and no clock is read.
            var waited = 0;
            var delay = 1;
            while (true)
            {
                var file = TryLockFile(shard);
                if (file is not null)
                {
                    return new ShardLock(gate, file);
                }

                if (waited >= _timeoutMilliseconds)
                {
                    throw new TimeoutException($"Timed out after {_timeoutMilliseconds} ms waiting for shard {FileStoreLayout.ShardName(shard)} (held by another process).");
                }

                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                waited += delay;
                delay = Math.Min(delay * 2, MaxBackoffMilliseconds);
            }
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    /// <summary>Takes the shard's lock only if it is free right now.</summary>
    public ShardLock? TryAcquire(int shard)
    {
        var gate = Gate(shard);
        if (!gate.Wait(0))
        {
            return null;
        }

        try
        {
            var file = TryLockFile(shard);
            if (file is not null)
            {
                return new ShardLock(gate, file);
            }
        }
        catch
        {
            gate.Release();
            throw;
        }

        gate.Release();
        return null;
    }

    /// <summary>
    /// Proves that exclusive opens exclude each other here. They do not when .NET's file locking is switched off
    /// (<c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c>) or on file systems where <c>flock</c> is per process (NFS).
    /// </summary>
    public bool VerifyExclusion()
    {
        // A private probe file, so a lock held by another process cannot disturb the test.
        var path = Path.Combine(layout.LockDirectory, $"probe-{FileStoreLayout.RandomHex(8)}.lock");
        try
        {
            using var first = DurableFile.OpenExclusive(path);
            try
            {
                using var second = DurableFile.OpenExclusive(path);
                return false;
            }
            catch (IOException ex) when (DurableFile.IsLockContention(ex))
            {
                return true;
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private FileStream? TryLockFile(int shard)
    {
        var path = layout.LockPath(shard);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return DurableFile.OpenExclusive(path);
            }
            catch (DirectoryNotFoundException) when (attempt == 0)
            {
                DurableFile.CreateDirectory(layout.LockDirectory, changedParents: null);
            }
            catch (IOException ex) when (DurableFile.IsLockContention(ex))
            {
                return null;
            }
        }
    }

    private SemaphoreSlim Gate(int shard)
    {
        var gate = Volatile.Read(ref _gates[shard]);
        if (gate is not null)
        {
            return gate;
        }

        var created = new SemaphoreSlim(1, 1);
        return Interlocked.CompareExchange(ref _gates[shard], created, null) ?? created;
    }
}

/// <summary>A held shard lock; disposing closes the lock file (releasing the OS lock) and then opens the gate.</summary>
internal sealed class ShardLock(SemaphoreSlim gate, FileStream file) : IDisposable
{
    private int _disposed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            file.Dispose();
            gate.Release();
        }
    }
}
