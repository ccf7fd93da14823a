namespace SessionKit.Stores;

/// <summary>Options for <see cref="FileSessionStore"/>. Bind them from configuration or set them in code; they are validated at start.</summary>
public sealed class FileSessionStoreOptions
{
    /// <summary>The default configuration section name, <c>SessionKit:FileStore</c>.</summary>
    public const string SectionName = "SessionKit:FileStore";

    /// <summary>
    /// Gets or sets the root directory of the store. Every process that shares sessions points at the same directory.
    /// Created (mode 0700 on Unix) when missing.
    /// </summary>
    /// <value>Required; a fully qualified path. Relative paths are rejected because processes with different working
    /// directories would silently use different stores.</value>
    public string Directory { get; set; } = string.Empty;

    /// <summary>
    /// Gets or sets the most directory entries one <see cref="FileSessionStore.RemoveExpiredAsync"/> call visits. The next
    /// call resumes where this one stopped, so the cost of one call is bounded however many sessions the store holds.
    /// </summary>
    /// <value>Default 10,000. Must be positive.</value>
    public int SweepBatchSize { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets how long an operation waits for the lock of a session's shard (held by this or another process)
    /// before it fails with a <see cref="SessionStoreException"/>.
    /// </summary>
    /// <value>Default 10 seconds. Must be positive.</value>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets a value indicating whether every write is flushed to the disk (<c>fsync</c> of the file, then of its
    /// directory) before it is acknowledged.
    /// </summary>
    /// <value>
    /// Default <see langword="true"/>. With <see langword="false"/> a killed process still never leaves a corrupt or
    /// half-written session (writes are atomic renames), but a power loss or kernel crash may lose recent writes.
    /// </value>
    public bool FlushToDisk { get; set; } = true;
}
