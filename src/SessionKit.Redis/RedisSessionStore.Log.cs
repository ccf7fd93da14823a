using Microsoft.Extensions.Logging;

namespace SessionKit.Redis;

public sealed partial class RedisSessionStore
{
    /// <summary>Log messages of the Redis store (event ids 200–299). Session ids never appear in them.</summary>
    private static partial class Log
    {
        public const int UnreadableSessionId = 200;
        public const int ScriptReloadedId = 201;
        public const int IndexMaintenanceFailedId = 202;
        public const int IndexEntriesPrunedId = 203;
        public const int SweepCompletedId = 204;
        public const int ConnectingId = 205;
        public const int ForeignValueId = 206;

        [LoggerMessage(UnreadableSessionId, LogLevel.Warning, "Ignored an unreadable session hash in Redis during {Operation}: {Reason}. It is treated as absent.")]
        public static partial void UnreadableSession(ILogger logger, string operation, string reason);

        [LoggerMessage(ScriptReloadedId, LogLevel.Information, "Redis did not have the {Script} script cached (restart or SCRIPT FLUSH); sent its text once to cache it again.")]
        public static partial void ScriptReloaded(ILogger logger, string script);

        [LoggerMessage(IndexMaintenanceFailedId, LogLevel.Warning, "Could not update the Redis indexes after {Operation}; readers and the sweep will correct them. {Failure}")]
        public static partial void IndexMaintenanceFailed(ILogger logger, string operation, string failure);

        [LoggerMessage(IndexEntriesPrunedId, LogLevel.Debug, "Pruned {Count} stale entries from a user index.")]
        public static partial void IndexEntriesPruned(ILogger logger, int count);

        [LoggerMessage(SweepCompletedId, LogLevel.Debug, "Redis sweep: {Removed} expired sessions removed, {Rescheduled} slid sessions rescheduled, {Dropped} stale expiry entries dropped.")]
        public static partial void SweepCompleted(ILogger logger, int removed, int rescheduled, int dropped);

        [LoggerMessage(ConnectingId, LogLevel.Information, "Connecting to Redis ({EndPointCount} configured endpoints).")]
        public static partial void Connecting(ILogger logger, int endPointCount);

        [LoggerMessage(ForeignValueId, LogLevel.Warning, "A value that is not a session hash sat at the key of session {SessionTag} (seen during {Operation}); it is treated as absent and removed.")]
        public static partial void ForeignValue(ILogger logger, string sessionTag, string operation);
    }
}
