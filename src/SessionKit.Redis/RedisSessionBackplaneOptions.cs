using StackExchange.Redis;

namespace SessionKit.Redis;

/// <summary>
/// Options for <see cref="RedisSessionBackplane"/>. Give at most one connection source; with none,
/// <c>AddRedisBackplane()</c> uses the Redis store's.
/// </summary>
public sealed class RedisSessionBackplaneOptions
{
    /// <summary>The default configuration section name, <c>SessionKit:RedisBackplane</c>.</summary>
    public const string SectionName = "SessionKit:RedisBackplane";

    /// <summary>
    /// Gets or sets a StackExchange.Redis configuration string; the backplane then owns its multiplexer, created with
    /// <c>abortConnect=false</c> and <see cref="BacklogPolicy.FailFast"/> (a publish while disconnected fails at once).
    /// </summary>
    /// <value>Default <see langword="null"/>.</value>
    public string? Configuration { get; set; }

    /// <summary>Gets or sets a multiplexer the host owns (never disposed by the backplane).</summary>
    /// <remarks>
    /// While it is disconnected, publishes follow the host's <see cref="ConfigurationOptions.BacklogPolicy"/> (under
    /// the client's default they queue); <see cref="PublishTimeout"/> still bounds each publish.
    /// </remarks>
    /// <value>Default <see langword="null"/>.</value>
    public IConnectionMultiplexer? ConnectionMultiplexer { get; set; }

    /// <summary>Gets or sets a factory for a multiplexer the host owns (called once, again after a failure).</summary>
    /// <value>Default <see langword="null"/>.</value>
    public Func<Task<IConnectionMultiplexer>>? ConnectionMultiplexerFactory { get; set; }

    /// <summary>Gets or sets the channel every node of one application publishes on; give each application its own.</summary>
    /// <value>Default <c>sessionkit:backplane</c>. Not empty.</value>
    public string Channel { get; set; } = "sessionkit:backplane";

    /// <summary>
    /// Gets or sets how often the backplane sends itself a heartbeat through Redis. Receiving its own heartbeat is
    /// how it knows its subscription is live; until then, and whenever heartbeats stop, it reports itself disconnected.
    /// </summary>
    /// <value>Default 1 second. Positive.</value>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how long without an own heartbeat before the backplane reports itself disconnected. This bounds
    /// how long a silently broken subscription (no error from the socket) can let a node serve a revoked session.
    /// </summary>
    /// <value>Default 3 seconds. Longer than <see cref="HeartbeatInterval"/>.</value>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Gets or sets how long one publish may take before it fails.</summary>
    /// <value>Default 2 seconds. Positive.</value>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
