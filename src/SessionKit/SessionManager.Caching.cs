using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionKit.Caching;
using SessionKit.Internal;
using SessionKit.Stores;

namespace SessionKit;

// Restore-on-miss: the L1 snapshot cache, the backplane wiring, write-behind touches and the internal change feed
// that live sessions follow. Everything here is off unless SessionCacheOptions.Enabled, and always off in front of
// the in-memory store (already a local cache), so the default manager behaves exactly as without this file.
public sealed partial class SessionManager
{
    private readonly string _nodeId = Convert.ToBase64String(RandomNumberGenerator.GetBytes(9));
    private SessionSnapshotCache? _cache;
    private SessionCacheOptions? _cacheOptions;
    private ISessionBackplane? _backplane;
    private IDisposable? _backplaneSubscription;
    private CancellationToken _cacheToken;
    private ConcurrentDictionary<string, PendingTouch>? _pendingTouches;
    private int _pendingTouchCount;
    private ITimer? _touchTimer;
    private readonly Lock _touchFlushLock = new();
    private Task _touchFlush = Task.CompletedTask;
    private bool _touchFlushAgain;
    private bool _touchFlushAllAgain;
    private int _cachingDisposed;

    /// <summary>
    /// Raised for every change this manager makes (update, delete, expiry, rotation) and every invalidation another
    /// node sends over the backplane. Live sessions and the broadcaster follow it. Handlers must be fast and must not throw.
    /// </summary>
    internal event Action<SessionBackplaneMessage>? SessionChanged;

    /// <summary>Gets this manager's node id on the backplane.</summary>
    internal string NodeId => _nodeId;

    /// <summary>Gets the L1 cache, or <see langword="null"/> when off.</summary>
    internal SessionSnapshotCache? Cache => _cache;

    /// <summary>Gets how many write-behind touches wait to be persisted.</summary>
    internal int PendingTouchCount => Volatile.Read(ref _pendingTouchCount);

    /// <summary>Gets the clock (for collaborators such as live sessions).</summary>
    internal TimeProvider TimeProvider => _time;

    /// <summary>Gets the metrics (for collaborators such as live sessions).</summary>
    internal SessionKitMetrics Metrics => _metrics;

    /// <summary>Gets the manager's logger (caching messages use event ids 40–69).</summary>
    internal ILogger Logger => _logger;

    /// <summary>
    /// Announces that <paramref name="oldId"/> was rotated away: every node drops its cached snapshot and disposes the
    /// live object of the old id. Rotation that goes through DeleteCoreAsync is announced already (as a delete); call
    /// this when the old id is kept as a forwarder instead.
    /// </summary>
    internal ValueTask PublishRotatedAsync(string oldId) => AnnounceAsync(oldId, SessionBackplaneAction.Rotated, long.MaxValue, publish: true);

    private void InitializeCaching(ISessionBackplane? backplane, IOptions<SessionCacheOptions>? cacheOptions)
    {
        var options = cacheOptions?.Value;
        if (options is null || !options.Enabled || _store is InMemorySessionStore)
        {
            // No L1: the in-memory store is a local cache already, and without opt-in nothing changes. Local changes
            // are still announced to a backplane, so other nodes' caches stay coherent with this one's writes.
            _backplane = backplane;
            return;
        }

        var validation = new SessionCacheOptionsValidator().Validate(Options.DefaultName, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(SessionCacheOptions), validation.Failures);
        }

        _cacheOptions = options;
        _cacheToken = _disposing.Token;
        _backplane = backplane ?? new InProcessSessionBackplane();
        _cache = new SessionSnapshotCache(options, connected: false);
        _backplaneSubscription = _backplane.Subscribe(new BackplaneSubscriber(this));

        // Subscribe first, then read the state: a change in between arrives as a callback and flushes again.
        _cache.Flush(_backplane.IsConnected);
        if (options.WriteBehindTouches)
        {
            _pendingTouches = new ConcurrentDictionary<string, PendingTouch>(StringComparer.Ordinal);
            _touchTimer = _time.CreateTimer(static state => ((SessionManager)state!).StartTouchFlush(all: true), this, options.TouchFlushInterval, options.TouchFlushInterval);
        }

        CacheLog.CacheEnabled(_logger, options.MaxEntries, options.EntryDuration.TotalSeconds, _backplane.GetType().Name, _backplane.IsConnected);
    }

    private ValueTask AnnounceAsync(string id, SessionBackplaneAction action, long version, bool publish)
    {
        var terminal = action is not SessionBackplaneAction.Updated;
        if (terminal)
        {
            _cache?.Invalidate(id, long.MaxValue, terminal: true);
            DropPendingTouch(id, upTo: DateTimeOffset.MaxValue);
        }

        var feed = SessionChanged;
        var backplane = publish ? _backplane : null;
        if (feed is null && backplane is null)
        {
            return ValueTask.CompletedTask;
        }

        var message = new SessionBackplaneMessage { SourceId = _nodeId, Action = action, SessionId = id, Version = version };
        RaiseSessionChanged(feed, message);
        return backplane is null ? ValueTask.CompletedTask : PublishAsync(backplane, message);
    }

    private async ValueTask PublishAsync(ISessionBackplane backplane, SessionBackplaneMessage message)
    {
        try
        {
            // Not the caller's token: the store write is done, and the other nodes must hear about it regardless.
            await backplane.PublishAsync(message, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            CacheLog.PublishFailed(_logger, message.Action, ex);
        }
    }

    private void RaiseSessionChanged(Action<SessionBackplaneMessage>? feed, SessionBackplaneMessage message)
    {
        if (feed is null)
        {
            return;
        }

        foreach (var handler in feed.GetInvocationList())
        {
            try
            {
                ((Action<SessionBackplaneMessage>)handler)(message);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                CacheLog.ChangeHandlerFailed(_logger, message.Action, ex);
            }
        }
    }

    private void OnBackplaneMessage(SessionBackplaneMessage message)
    {
        if (message.Action == SessionBackplaneAction.Notification || message.SessionId is not { } id
            || string.Equals(message.SourceId, _nodeId, StringComparison.Ordinal))
        {
            return;
        }

        _metrics.CacheInvalidations.Add(1);
        _cache?.Invalidate(id, message.Version, message.IsTerminal);
        if (message.IsTerminal)
        {
            DropPendingTouch(id, upTo: DateTimeOffset.MaxValue);
        }

        RaiseSessionChanged(SessionChanged, message);
    }

    private void OnBackplaneConnectionChanged(bool connected)
    {
        // Flushed both ways: on loss (messages may be missed from now on) and on return (they may have been missed).
        _cache?.Flush(connected);
        if (connected)
        {
            CacheLog.BackplaneConnected(_logger);
        }
        else
        {
            CacheLog.BackplaneDisconnected(_logger, _cacheOptions?.DisconnectedEntryDuration.TotalSeconds ?? 0);
        }
    }

    /// <summary>Stops the cache when the manager is disposed: unsubscribes, then persists pending touches (bounded by <see cref="SessionCacheOptions.DisposeFlushTimeout"/>).</summary>
    private async Task DisposeCachingAsync()
    {
        if (Interlocked.Exchange(ref _cachingDisposed, 1) != 0)
        {
            return;
        }

        _touchTimer?.Dispose();
        _backplaneSubscription?.Dispose();
        if (_pendingTouches is null || _cacheOptions is not { } options)
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
            CacheLog.TouchFlushFailed(_logger, PendingTouchCount, ex);
        }
    }

    private sealed class BackplaneSubscriber(SessionManager manager) : ISessionBackplaneSubscriber
    {
        public void OnMessage(SessionBackplaneMessage message) => manager.OnBackplaneMessage(message);

        public void OnConnectionChanged(bool connected) => manager.OnBackplaneConnectionChanged(connected);
    }

    /// <summary>Log messages of the restore-on-miss cache, live sessions and the broadcaster (event ids 40–69).</summary>
    internal static partial class CacheLog
    {
        [LoggerMessage(40, LogLevel.Information, "Session cache on: up to {MaxEntries} entries for at most {EntrySeconds} s each, backplane {Backplane} (connected: {Connected}).", EventName = "SessionCacheEnabled")]
        public static partial void CacheEnabled(ILogger logger, int maxEntries, double entrySeconds, string backplane, bool connected);

        [LoggerMessage(41, LogLevel.Warning, "The session backplane disconnected: the cache was flushed and keeps new entries for {DisconnectedSeconds} s only (0: off) until it reconnects.", EventName = "BackplaneDisconnected")]
        public static partial void BackplaneDisconnected(ILogger logger, double disconnectedSeconds);

        [LoggerMessage(42, LogLevel.Information, "The session backplane is connected; the cache was flushed and serves again.", EventName = "BackplaneConnected")]
        public static partial void BackplaneConnected(ILogger logger);

        [LoggerMessage(43, LogLevel.Warning, "Could not publish a {Action} invalidation; other nodes drop their copy when its entry duration ends.", EventName = "InvalidationPublishFailed")]
        public static partial void PublishFailed(ILogger logger, SessionBackplaneAction action, Exception exception);

        [LoggerMessage(44, LogLevel.Error, "A session change handler failed on a {Action} change.", EventName = "ChangeHandlerFailed")]
        public static partial void ChangeHandlerFailed(ILogger logger, SessionBackplaneAction action, Exception exception);

        [LoggerMessage(45, LogLevel.Warning, "Could not persist write-behind touches ({Pending} pending); they are retried at the next flush.", EventName = "TouchFlushFailed")]
        public static partial void TouchFlushFailed(ILogger logger, int pending, Exception exception);

        [LoggerMessage(46, LogLevel.Debug, "Persisted {Count} write-behind touches.", EventName = "TouchesFlushed")]
        public static partial void TouchesFlushed(ILogger logger, int count);

        [LoggerMessage(47, LogLevel.Debug, "Live session {SessionTag} activated.", EventName = "LiveSessionActivated")]
        public static partial void LiveSessionActivated(ILogger logger, string sessionTag);

        [LoggerMessage(48, LogLevel.Debug, "Live session {SessionTag} disposed ({Reason}).", EventName = "LiveSessionDisposed")]
        public static partial void LiveSessionDisposed(ILogger logger, string sessionTag, string reason);

        [LoggerMessage(49, LogLevel.Warning, "Disposing a live session object failed ({Reason}).", EventName = "LiveSessionDisposeFailed")]
        public static partial void LiveSessionDisposeFailed(ILogger logger, string reason, Exception exception);

        [LoggerMessage(50, LogLevel.Warning, "Activating a live session object failed.", EventName = "LiveSessionActivationFailed")]
        public static partial void LiveSessionActivationFailed(ILogger logger, Exception exception);

        [LoggerMessage(51, LogLevel.Warning, "Dropped a slow broadcast subscriber: its buffer of {Capacity} notifications was full.", EventName = "BroadcastSubscriberDropped")]
        public static partial void SubscriberDropped(ILogger logger, int capacity);

        [LoggerMessage(52, LogLevel.Warning, "Could not send a broadcast notification to other nodes; local subscribers received it.", EventName = "BroadcastPublishFailed")]
        public static partial void BroadcastPublishFailed(ILogger logger, Exception exception);
    }
}
