using Microsoft.Extensions.Logging;

namespace SessionKit.Stores;

public sealed partial class FileSessionStore
{
    /// <summary>Log messages of the file store (event ids 100–149). File tags are the first 8 hex digits of a SHA-256 of the id; ids are never logged.</summary>
    private static partial class Log
    {
        [LoggerMessage(100, LogLevel.Warning, "Session file {FileTag} is unreadable ({Problem}); it is treated as absent and was moved to quarantine as {QuarantineName}.")]
        public static partial void Quarantined(ILogger logger, string fileTag, string problem, string quarantineName);

        [LoggerMessage(101, LogLevel.Error, "Session file {FileTag} is unreadable ({Problem}) and could not be moved to quarantine; it is treated as absent.")]
        public static partial void QuarantineFailed(ILogger logger, string fileTag, string problem, Exception exception);

        [LoggerMessage(102, LogLevel.Information, "Removed {Count} temporary file(s) left by crashed writers in shard {Shard}.")]
        public static partial void OrphanedTempFilesRemoved(ILogger logger, int count, string shard);

        [LoggerMessage(103, LogLevel.Debug, "Sweep visited {Visited} entries: removed {Removed} expired sessions and {TempFiles} orphaned temporary files, quarantined {Quarantined} files; pass completed: {PassCompleted}.")]
        public static partial void Swept(ILogger logger, int visited, int removed, int tempFiles, int quarantined, bool passCompleted);

        [LoggerMessage(104, LogLevel.Warning, "Could not restrict the store directory to its owner (mode 0700); other local users may be able to list it.")]
        public static partial void PermissionsNotRestricted(ILogger logger, Exception exception);

        [LoggerMessage(105, LogLevel.Debug, "Removed a stale user index entry for session file {FileTag}.")]
        public static partial void StaleIndexEntryRemoved(ILogger logger, string fileTag);

        [LoggerMessage(106, LogLevel.Warning, "Could not remove a user index entry for session file {FileTag}; queries skip it and it is pruned later.")]
        public static partial void IndexEntryNotRemoved(ILogger logger, string fileTag, Exception exception);

        [LoggerMessage(107, LogLevel.Information, "File session store opened at {Directory} (layout {Layout}, flush to disk: {FlushToDisk}).")]
        public static partial void Opened(ILogger logger, string directory, int layout, bool flushToDisk);
    }
}
