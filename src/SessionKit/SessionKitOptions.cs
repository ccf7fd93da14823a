namespace SessionKit;

/// <summary>Options for <see cref="SessionManager"/>. Bind them from configuration or set them in code; they are validated at start.</summary>
public sealed class SessionKitOptions
{
    /// <summary>The default configuration section name, <c>SessionKit</c>.</summary>
    public const string SectionName = "SessionKit";

    /// <summary>Gets or sets the default sliding idle window of a session.</summary>
    /// <value>Default 20 minutes. Must be positive.</value>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(20);

    /// <summary>Gets or sets the default hard cap on a session's lifetime, never extended by use; <see langword="null"/> disables the cap.</summary>
    /// <value>Default 8 hours. Must not be shorter than <see cref="IdleTimeout"/>.</value>
    public TimeSpan? AbsoluteTimeout { get; set; } = TimeSpan.FromHours(8);

    /// <summary>
    /// Gets or sets how old the last persisted access must be before a read slides the session in the store. A hot
    /// session therefore costs one store write per threshold window, not one per read.
    /// </summary>
    /// <value>Default <see langword="null"/>: 10% of each session's idle timeout. When set, positive and shorter than <see cref="IdleTimeout"/>.</value>
    public TimeSpan? TouchThreshold { get; set; }

    /// <summary>Gets or sets a value indicating whether expired sessions are swept in the background.</summary>
    /// <value>Default <see langword="true"/>.</value>
    public bool EnableBackgroundCleanup { get; set; } = true;

    /// <summary>Gets or sets how often the background sweep runs.</summary>
    /// <value>Default 1 minute. Must be positive.</value>
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the most sessions one sweep call removes before the next call.</summary>
    /// <value>Default 1000. Must be positive.</value>
    public int CleanupBatchSize { get; set; } = 1000;

    /// <summary>Gets or sets the largest state one session may hold, in bytes (UTF-8 keys plus raw JSON values).</summary>
    /// <value>Default 1 MiB (1,048,576). Must be positive.</value>
    public long MaxStateBytes { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets the most live sessions one user may hold; <see langword="null"/> for no limit.</summary>
    /// <value>Default <see langword="null"/>. When set, positive.</value>
    public int? MaxSessionsPerUser { get; set; }

    /// <summary>Gets or sets what happens when <see cref="MaxSessionsPerUser"/> is reached.</summary>
    /// <value>Default <see cref="MaxSessionsPolicy.EvictOldest"/>.</value>
    public MaxSessionsPolicy MaxSessionsPolicy { get; set; } = MaxSessionsPolicy.EvictOldest;

    /// <summary>Gets or sets a value indicating whether a session is deleted when a guard rejects an access to it.</summary>
    /// <value>Default <see langword="false"/> (a rejected caller cannot harm the session; terminating lets an attacker log the victim out).</value>
    public bool TerminateOnRejection { get; set; }

    /// <summary>Gets or sets how long an old id keeps resolving to the new session after a rotation.</summary>
    /// <value>Default 30 seconds. Must not be negative; zero kills the old id at once.</value>
    public TimeSpan RotationGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how long a rotation, or a write that reaches an id while a rotation moves its session, keeps
    /// retrying under contention before it answers <see cref="SessionRotateStatus.Busy"/> (or, for a write, gives up).
    /// </summary>
    /// <value>Default 5 seconds.</value>
    public TimeSpan RotationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the restore-on-miss cache options (configuration section <c>SessionKit:Cache</c>).</summary>
    /// <value>Default: a cache that is off (<see cref="Caching.SessionCacheOptions.Enabled"/> is <see langword="false"/>); <c>AddSessionCache()</c> turns it on.</value>
    public Caching.SessionCacheOptions Cache { get; set; } = new();

    /// <summary>
    /// Gets or sets the key ring that encrypts metadata and state values at rest (see
    /// <see cref="Security.SessionEncryptionOptions"/>); <see langword="null"/> stores them in clear.
    /// </summary>
    /// <value>Default <see langword="null"/> (off); <c>AddStateEncryption()</c> sets it. When set, validated with the other options.</value>
    public Security.SessionEncryptionOptions? Encryption { get; set; }
}
