using Microsoft.Extensions.Logging;

namespace SessionKit;

public sealed partial class SessionManager
{
    /// <summary>Manager log messages (event ids 1–99). Session ids appear only as salted short tags.</summary>
    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Session {SessionTag} created, expires at {ExpiresAt:O}.", EventName = "SessionCreated")]
        public static partial void SessionCreated(ILogger logger, string sessionTag, DateTimeOffset expiresAt);

        [LoggerMessage(2, LogLevel.Warning, "The store reported an id collision for a fresh session id (attempt {Attempt}).", EventName = "SessionIdCollision")]
        public static partial void SessionIdCollision(ILogger logger, int attempt);

        [LoggerMessage(3, LogLevel.Debug, "Session {SessionTag} deleted.", EventName = "SessionDeleted")]
        public static partial void SessionDeleted(ILogger logger, string sessionTag);

        [LoggerMessage(4, LogLevel.Information, "Deleted {Count} sessions of one user (kept the caller's: {KeptOne}).", EventName = "UserSessionsDeleted")]
        public static partial void UserSessionsDeleted(ILogger logger, int count, bool keptOne);

        [LoggerMessage(5, LogLevel.Information, "Evicted {Count} oldest sessions to keep a user within {Max} sessions.", EventName = "SessionsEvicted")]
        public static partial void SessionsEvicted(ILogger logger, int count, int max);

        [LoggerMessage(6, LogLevel.Information, "Refused a new session: the user already holds {Max} sessions.", EventName = "SessionLimitReached")]
        public static partial void SessionLimitReached(ILogger logger, int max);

        [LoggerMessage(7, LogLevel.Debug, "Session {SessionTag} update refused: expected version {Expected}, current {Current}.", EventName = "UpdateConflict")]
        public static partial void UpdateConflict(ILogger logger, string sessionTag, long expected, long current);

        [LoggerMessage(8, LogLevel.Debug, "Cleanup removed {Count} expired sessions in {ElapsedMs:F1} ms.", EventName = "CleanupCompleted")]
        public static partial void CleanupCompleted(ILogger logger, int count, double elapsedMs);

        [LoggerMessage(9, LogLevel.Warning, "Background cleanup failed; it runs again at the next interval.", EventName = "BackgroundCleanupFailed")]
        public static partial void BackgroundCleanupFailed(ILogger logger, Exception exception);

        [LoggerMessage(10, LogLevel.Warning, "Access to session {SessionTag} rejected by the {Guard} guard: {Reason}.", EventName = "AccessRejected")]
        public static partial void AccessRejected(ILogger logger, string sessionTag, string guard, string reason);

        [LoggerMessage(11, LogLevel.Warning, "Access to session {SessionTag} flagged by the {Guard} guard (log-only): {Reason}.", EventName = "AccessFlagged")]
        public static partial void AccessFlagged(ILogger logger, string sessionTag, string guard, string reason);

        [LoggerMessage(12, LogLevel.Debug, "Session {SessionTag} rotated to {NewSessionTag}.", EventName = "SessionRotated")]
        public static partial void SessionRotated(ILogger logger, string sessionTag, string newSessionTag);

        [LoggerMessage(13, LogLevel.Error, "Lifecycle handler {Handler} failed on a {Kind} event; the operation itself succeeded.", EventName = "LifecycleHandlerFailed")]
        public static partial void LifecycleHandlerFailed(ILogger logger, string handler, SessionEventKind kind, Exception exception);

        [LoggerMessage(14, LogLevel.Warning, "Re-binding session {SessionTag} under the current server key failed; it is retried on the next access.", EventName = "RebindFailed")]
        public static partial void RebindFailed(ILogger logger, string sessionTag, Exception exception);

        [LoggerMessage(15, LogLevel.Information, "Session {SessionTag} terminated after a rejected access (TerminateOnRejection).", EventName = "TerminatedOnRejection")]
        public static partial void TerminatedOnRejection(ILogger logger, string sessionTag);
    }
}
