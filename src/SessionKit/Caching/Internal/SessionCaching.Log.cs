using Microsoft.Extensions.Logging;

namespace SessionKit.Caching;

internal sealed partial class SessionCaching
{
    /// <summary>Log messages of the restore-on-miss cache, live sessions and the broadcaster (event ids 40–69).</summary>
    internal static partial class Log
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

        [LoggerMessage(53, LogLevel.Error, "Could not publish a {Action} revocation: the store change stands, but other nodes may serve their cached copy until its entry duration ends.", EventName = "RevocationPublishFailed")]
        public static partial void RevokeFailed(ILogger logger, SessionBackplaneAction action, Exception exception);
    }
}
