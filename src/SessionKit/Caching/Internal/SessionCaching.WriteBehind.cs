using System.Collections.Concurrent;

namespace SessionKit.Caching;

// Write-behind touches (dual trigger): a due slide is recorded in memory and persisted in the background after
// TouchFlushAccessCount accesses or TouchFlushInterval, whichever comes first, and on dispose. Reads in between report
// the effective expiry, pending slide included. A slide is deferred only while the persisted expiry is more than two
// flush intervals away, so the store never lets a session lapse that a read on this node reported live.
internal sealed partial class SessionCaching
{
    private readonly Lock _touchFlushLock = new();
    private ConcurrentDictionary<string, PendingTouch>? _pendingTouches;
    private int _pendingTouchCount;
    private ITimer? _touchTimer;
    private Task _touchFlush = Task.CompletedTask;
    private bool _touchFlushAgain;
    private bool _touchFlushAllAgain;

    /// <summary>Gets how many write-behind touches wait to be persisted.</summary>
    public int PendingTouchCount => Volatile.Read(ref _pendingTouchCount);

    /// <summary>Persists every pending touch now (the sweep calls this first, so it never removes what a read slid).</summary>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>A task that completes when the pending touches have been written.</returns>
    public Task FlushPendingTouchesAsync(CancellationToken cancellationToken) =>
        _pendingTouches is null || PendingTouchCount == 0 ? Task.CompletedTask : FlushTouchesAsync(all: true, cancellationToken);

    private void StartWriteBehind(SessionCacheOptions options)
    {
        _pendingTouches = new ConcurrentDictionary<string, PendingTouch>(StringComparer.Ordinal);
        _touchTimer = _time.CreateTimer(static state => ((SessionCaching)state!).StartTouchFlush(all: true), this, options.TouchFlushInterval, options.TouchFlushInterval);
    }

    private bool CanDefer(Session session, DateTimeOffset now) =>
        (PendingTouchCount > 0 && _pendingTouches!.ContainsKey(session.Id))
        || session.ExpiresAt - now > 2 * _options!.TouchFlushInterval;

    private async Task StopWriteBehindAsync()
    {
        _touchTimer?.Dispose();
        if (_pendingTouches is null || _options is not { } options)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(options.DisposeFlushTimeout, _time);
        try
        {
            Task running;
            lock (_touchFlushLock)
            {
                running = _touchFlush;
            }

            await running.WaitAsync(timeout.Token).ConfigureAwait(false);
            await FlushTouchesAsync(all: true, timeout.Token).WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.TouchFlushFailed(_logger, PendingTouchCount, ex);
        }
    }

    private void DeferTouch(string id, DateTimeOffset now)
    {
        var pending = _pendingTouches!;
        if (!pending.TryGetValue(id, out var touch))
        {
            var created = new PendingTouch(now.UtcTicks);
            touch = pending.GetOrAdd(id, created);
            if (ReferenceEquals(touch, created))
            {
                Interlocked.Increment(ref _pendingTouchCount);
                _metrics.TouchesDeferred.Add(1);
            }
        }

        touch.Advance(now.UtcTicks);
        CountAccess(touch);
    }

    /// <summary>Reports a pending slide in a snapshot read from the cache or the store, and counts the access.</summary>
    private Session WithPendingTouch(string id, Session session)
    {
        if (Volatile.Read(ref _pendingTouchCount) == 0 || !_pendingTouches!.TryGetValue(id, out var touch))
        {
            return session;
        }

        CountAccess(touch);
        return touch.Report(session);
    }

    private void CountAccess(PendingTouch touch)
    {
        if (touch.CountAccess() == _options!.TouchFlushAccessCount)
        {
            StartTouchFlush(all: false);
        }
    }

    private void DropPendingTouch(string id, DateTimeOffset upTo)
    {
        if (_pendingTouches is { } pending && pending.TryGetValue(id, out var touch) && touch.LatestTicks <= upTo.UtcTicks
            && pending.TryRemove(KeyValuePair.Create(id, touch)))
        {
            Interlocked.Decrement(ref _pendingTouchCount);
        }
    }

    private void StartTouchFlush(bool all)
    {
        lock (_touchFlushLock)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            if (!_touchFlush.IsCompleted)
            {
                // Runs again when the current pass ends; a request to flush everything is never downgraded.
                _touchFlushAgain = true;
                _touchFlushAllAgain |= all;
                return;
            }

            _touchFlush = RunTouchFlushAsync(all);
        }
    }

    private async Task RunTouchFlushAsync(bool all)
    {
        // Off the caller's path and under the manager's token: a touch belongs to no request.
        await Task.Yield();
        while (true)
        {
            try
            {
                await FlushTouchesAsync(all, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.Token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.TouchFlushFailed(_logger, PendingTouchCount, ex);
            }

            lock (_touchFlushLock)
            {
                if (!_touchFlushAgain)
                {
                    return;
                }

                _touchFlushAgain = false;
                all = _touchFlushAllAgain;
                _touchFlushAllAgain = false;
            }
        }
    }

    /// <summary>Persists pending touches: all of them, or those that reached the access count.</summary>
    private async Task FlushTouchesAsync(bool all, CancellationToken cancellationToken)
    {
        var pending = _pendingTouches;
        if (pending is null || Volatile.Read(ref _pendingTouchCount) == 0)
        {
            return;
        }

        var threshold = _options!.TouchFlushAccessCount;
        var flushed = 0;
        Exception? failure = null;
        foreach (var (id, touch) in pending)
        {
            if (!all && touch.Accesses < threshold)
            {
                continue;
            }

            // Carry the slide in the cached snapshot before it leaves the pending set: a read while it is being written
            // must not find a touch due again and record a second one for the same window. If the write fails, the
            // pending touch is put back below, so nothing is lost.
            _cache?.Touched(id, new DateTimeOffset(touch.LatestTicks, TimeSpan.Zero));
            if (!pending.TryRemove(KeyValuePair.Create(id, touch)))
            {
                continue;
            }

            Interlocked.Decrement(ref _pendingTouchCount);
            var at = new DateTimeOffset(touch.LatestTicks, TimeSpan.Zero);
            try
            {
                // The slide is stamped with the last access it stands for, not the flush time.
                await TouchStoreAsync(id, at, cancellationToken).ConfigureAwait(false);
                flushed++;
            }
            catch (Exception ex)
            {
                // Keep it for the next flush (merged with any access recorded meanwhile): a cancelled background pass
                // hands it to the flush on dispose.
                var merged = pending.AddOrUpdate(id, static (_, t) => t, static (_, current, t) => current.Absorb(t), touch);
                if (ReferenceEquals(merged, touch))
                {
                    Interlocked.Increment(ref _pendingTouchCount);
                }

                if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
                {
                    throw;
                }

                failure ??= ex;
            }
        }

        if (flushed > 0)
        {
            _metrics.TouchesFlushed.Add(flushed);
            Log.TouchesFlushed(_logger, flushed);
        }

        if (failure is not null)
        {
            throw failure;
        }
    }

    /// <summary>One session's slide waiting to be persisted.</summary>
    private sealed class PendingTouch(long latestTicks)
    {
        private long _latestTicks = latestTicks;
        private int _accesses;
        private Reported? _reported;

        public long LatestTicks => Volatile.Read(ref _latestTicks);

        public int Accesses => Volatile.Read(ref _accesses);

        public int CountAccess() => Interlocked.Increment(ref _accesses);

        public void Advance(long ticks)
        {
            var current = Volatile.Read(ref _latestTicks);
            while (ticks > current)
            {
                var seen = Interlocked.CompareExchange(ref _latestTicks, ticks, current);
                if (seen == current)
                {
                    return;
                }

                current = seen;
            }
        }

        public PendingTouch Absorb(PendingTouch other)
        {
            Advance(other.LatestTicks);
            Interlocked.Add(ref _accesses, other.Accesses);
            return this;
        }

        /// <summary>The snapshot with the pending slide applied; cached, so repeated reads allocate nothing.</summary>
        public Session Report(Session stored)
        {
            var latest = LatestTicks;
            if (latest <= stored.LastAccessedAt.UtcTicks)
            {
                return stored;
            }

            var reported = Volatile.Read(ref _reported);
            if (reported is not null && ReferenceEquals(reported.Stored, stored) && reported.Ticks == latest)
            {
                return reported.Value;
            }

            var value = stored with { LastAccessedAt = new DateTimeOffset(latest, TimeSpan.Zero) };
            Volatile.Write(ref _reported, new Reported(stored, latest, value));
            return value;
        }

        private sealed record Reported(Session Stored, long Ticks, Session Value);
    }
}
