namespace SessionKit;

public sealed partial class SessionManager
{
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _cleanupLock = new();
    private ITimer? _cleanupTimer;
    private Task _cleanupRun = Task.CompletedTask;
    private int _cleanupRunning;
    private int _disposed;

    /// <inheritdoc />
    public async ValueTask<int> CleanupExpiredAsync(CancellationToken cancellationToken = default)
    {
        using var activity = StartActivity("SessionKit.Cleanup");
        var now = Now();
        var started = _time.GetTimestamp();
        var total = 0;

        // A slide this node deferred keeps its session live: persist it before the store decides what expired.
        await _caching.FlushPendingTouchesAsync(cancellationToken).ConfigureAwait(false);
        while (!cancellationToken.IsCancellationRequested)
        {
            var removed = await RemoveExpiredCoreAsync(now, cancellationToken).ConfigureAwait(false);
            total += removed.Count;
            foreach (var session in removed)
            {
                if (!session.IsForwarder)
                {
                    await RaiseAsync(SessionEventKind.Expired, session, now).ConfigureAwait(false);
                }
            }

            if (removed.Count < _options.CleanupBatchSize)
            {
                break;
            }
        }

        if (total > 0)
        {
            _metrics.Expired.Add(total);
        }

        Log.CleanupCompleted(_logger, total, _time.GetElapsedTime(started).TotalMilliseconds);
        return total;
    }

    /// <summary>
    /// Stops the background cleanup and waits for a sweep in progress to finish; with the restore-on-miss cache, also
    /// stops following the backplane and persists pending write-behind touches (bounded by
    /// <see cref="Caching.SessionCacheOptions.DisposeFlushTimeout"/>).
    /// </summary>
    /// <returns>A task that completes when the manager has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var running = StopCleanupTimer();

        await _disposing.CancelAsync().ConfigureAwait(false);
        await running.ConfigureAwait(false);
        await _caching.DisposeAsync().ConfigureAwait(false);
        _encryption?.Dispose();
        _disposing.Dispose();
    }

    /// <summary>
    /// Stops the background cleanup and waits (briefly, at most 10 seconds) for a sweep in progress; with the
    /// restore-on-miss cache, also persists pending write-behind touches. Prefer <see cref="DisposeAsync"/>.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var running = StopCleanupTimer();

        _disposing.Cancel();
        running.Wait(TimeSpan.FromSeconds(10));
        _caching.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _encryption?.Dispose();
        _disposing.Dispose();
    }

    /// <summary>Stops the background cleanup without disposing the manager (used when a host stops).</summary>
    internal async Task StopBackgroundCleanupAsync()
    {
        var running = StopCleanupTimer();

        await running.ConfigureAwait(false);
    }

    /// <summary>Stops the cleanup timer and returns the sweep in progress (completed when none runs).</summary>
    private Task StopCleanupTimer()
    {
        lock (_cleanupLock)
        {
            _cleanupTimer?.Dispose();
            _cleanupTimer = null;
            return _cleanupRun;
        }
    }

    private void StartBackgroundCleanup()
    {
        lock (_cleanupLock)
        {
            _cleanupTimer ??= _time.CreateTimer(static state => ((SessionManager)state!).OnCleanupTimer(), this, _options.CleanupInterval, _options.CleanupInterval);
        }
    }

    private void OnCleanupTimer()
    {
        // One sweep at a time; a tick that finds one running is skipped, not queued.
        if (Interlocked.CompareExchange(ref _cleanupRunning, 1, 0) != 0)
        {
            return;
        }

        lock (_cleanupLock)
        {
            if (_cleanupTimer is null || Volatile.Read(ref _disposed) != 0)
            {
                Volatile.Write(ref _cleanupRunning, 0);
                return;
            }

            _cleanupRun = RunBackgroundCleanupAsync();
        }
    }

    private async Task RunBackgroundCleanupAsync()
    {
        try
        {
            // The manager's own token: a background sweep belongs to no caller, so no caller can cancel it.
            await CleanupExpiredAsync(_disposing.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Log.BackgroundCleanupFailed(_logger, ex);
        }
        finally
        {
            Volatile.Write(ref _cleanupRunning, 0);
        }
    }
}
