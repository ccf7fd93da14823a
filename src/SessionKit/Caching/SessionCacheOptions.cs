namespace SessionKit.Caching;

/// <summary>
/// Options of the restore-on-miss cache: a node-local snapshot cache (L1) in front of a remote store, kept coherent
/// by an <see cref="ISessionBackplane"/>, and write-behind touches. <c>AddSessionCache()</c> or <c>AddRedisBackplane()</c>
/// turn it on; without them (and always in front of the in-memory store, which is a local cache already) the manager
/// reads the store on every access.
/// </summary>
public sealed class SessionCacheOptions
{
    /// <summary>The default configuration section name, <c>SessionKit:Cache</c>.</summary>
    public const string SectionName = "SessionKit:Cache";

    /// <summary>
    /// Gets or sets a value indicating whether the manager keeps an L1 snapshot cache. Turn it on only when every
    /// node that writes the store shares the backplane: with the default in-process backplane that means one process.
    /// </summary>
    /// <value>Default <see langword="false"/>; <c>AddSessionCache()</c> and <c>AddRedisBackplane()</c> set it.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets the most sessions the L1 holds; beyond it the least recently used tenth is evicted.</summary>
    /// <value>Default 10,000. Positive.</value>
    public int MaxEntries { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets how long an L1 entry is served, at most, before the store is read again, while the backplane is
    /// connected. It bounds staleness if a message is lost despite a connected backplane.
    /// </summary>
    /// <value>Default 5 minutes. Positive.</value>
    public TimeSpan EntryDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets a value indicating whether revocation is strict: a get on any node that starts after a delete,
    /// rotation or guard termination has returned never serves the old session. The revoking call waits until every
    /// node the backplane has proven connected has applied the invalidation (one pub/sub round trip when all are
    /// healthy; up to the backplane's lease for a node that stopped answering), and each hit is served only while this
    /// node's backplane lease is valid (no store command per hit).
    /// </summary>
    /// <remarks>
    /// With <see langword="false"/> (eventual), revoking calls return as soon as the invalidation is published and
    /// other nodes may serve the revoked session until the message reaches them: docs/restore-on-miss.md gives the
    /// window measured on loopback. <see cref="DisconnectedEntryDuration"/> above zero requires eventual mode.
    /// </remarks>
    /// <value>Default <see langword="true"/>.</value>
    public bool StrictRevocation { get; set; } = true;

    /// <summary>
    /// Gets or sets how long an entry loaded while the backplane is disconnected is served. Zero turns the L1 off
    /// while disconnected, so a revoked session is never served from cache (fail closed).
    /// </summary>
    /// <value>Default <see cref="TimeSpan.Zero"/>. Not negative, at most <see cref="EntryDuration"/>.</value>
    public TimeSpan DisconnectedEntryDuration { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Gets or sets a value indicating whether slides (touches) are written behind: a due touch is recorded in memory
    /// and persisted in the background after <see cref="TouchFlushAccessCount"/> accesses or
    /// <see cref="TouchFlushInterval"/>, whichever comes first, and on dispose. Reads report the effective expiry,
    /// pending touch included. A crash loses pending touches (the session then expires up to one touch threshold early).
    /// </summary>
    /// <value>Default <see langword="true"/> (when the cache is enabled).</value>
    public bool WriteBehindTouches { get; set; } = true;

    /// <summary>Gets or sets after how many accesses a pending touch is persisted.</summary>
    /// <value>Default 100. Positive.</value>
    public int TouchFlushAccessCount { get; set; } = 100;

    /// <summary>Gets or sets the longest a pending touch waits before it is persisted.</summary>
    /// <value>Default 5 seconds. Positive; keep it well below the touch threshold.</value>
    public TimeSpan TouchFlushInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how long a flush on dispose may take before pending touches are abandoned.</summary>
    /// <value>Default 5 seconds. Positive.</value>
    public TimeSpan DisposeFlushTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
