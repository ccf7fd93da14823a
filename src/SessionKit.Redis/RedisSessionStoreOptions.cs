using StackExchange.Redis;

namespace SessionKit.Redis;

/// <summary>
/// Options for <see cref="RedisSessionStore"/>. Give exactly one connection source: <see cref="Configuration"/>,
/// <see cref="ConnectionMultiplexer"/> or <see cref="ConnectionMultiplexerFactory"/>.
/// </summary>
public sealed class RedisSessionStoreOptions
{
    /// <summary>The default configuration section name, <c>SessionKit:Redis</c>.</summary>
    public const string SectionName = "SessionKit:Redis";

    private string _keyPrefix = "sessionkit:";
    private TimeSpan _operationTimeout = TimeSpan.FromSeconds(5);
    private TimeSpan _expiryGracePeriod = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets a StackExchange.Redis configuration string (for example <c>localhost:6379</c>). The store then
    /// creates, owns and disposes its own multiplexer, with <c>abortConnect=false</c> so it starts while Redis is down
    /// and reconnects by itself, and with <see cref="BacklogPolicy.FailFast"/> so that while it is disconnected a call
    /// fails at once instead of queueing.
    /// </summary>
    /// <value>Default <see langword="null"/>.</value>
    public string? Configuration { get; set; }

    /// <summary>
    /// Gets or sets a multiplexer the host created and owns (the store never disposes it). Use this to share one
    /// connection with the rest of the application or to run on a newer StackExchange.Redis than the one this
    /// package was built against (2.7.27; the newest 2.x and 3.x are tested).
    /// </summary>
    /// <remarks>
    /// The store cannot change a multiplexer it is handed. While it is disconnected, commands follow the host's
    /// <see cref="ConfigurationOptions.BacklogPolicy"/>: under the client's default they queue and may wait up to the
    /// host's own timeout, where a multiplexer the store creates fails at once. Either way
    /// <see cref="OperationTimeout"/> still bounds every store call, which then fails with
    /// <see cref="SessionStoreException"/>; a queued command may still run when the connection returns.
    /// </remarks>
    /// <value>Default <see langword="null"/>.</value>
    public IConnectionMultiplexer? ConnectionMultiplexer { get; set; }

    /// <summary>
    /// Gets or sets a factory the store calls (once, retried after a failure) to get the multiplexer. The host owns
    /// what it returns; the store never disposes it, and its backlog policy applies as for
    /// <see cref="ConnectionMultiplexer"/>.
    /// </summary>
    /// <value>Default <see langword="null"/>.</value>
    public Func<Task<IConnectionMultiplexer>>? ConnectionMultiplexerFactory { get; set; }

    /// <summary>
    /// Gets or sets the prefix of every key the store writes: session hashes <c>{prefix}{BBB}:s:{id}</c>, the
    /// buckets' expiry sets <c>{prefix}{BBB}:x</c> (BBB, the session's bucket, is also its Redis Cluster hash tag) and
    /// user indexes <c>{prefix}u:{userId}</c>. Give each application its own prefix.
    /// </summary>
    /// <value>Default <c>sessionkit:</c>. Not empty, and without <c>{</c> or <c>}</c>: the store places its own hash tag.</value>
    /// <exception cref="ArgumentException">The value is null or empty, or holds a brace.</exception>
    public string KeyPrefix
    {
        get => _keyPrefix;
        set
        {
            ArgumentException.ThrowIfNullOrEmpty(value);
            if (value.AsSpan().IndexOfAny('{', '}') >= 0)
            {
                throw new ArgumentException("The key prefix must not contain '{' or '}': the store gives every key its own Redis Cluster hash tag, and a tag in the prefix would put all sessions in one slot (or split a session from its expiry set).", nameof(value));
            }

            _keyPrefix = value;
        }
    }

    /// <summary>
    /// Gets or sets how long one store operation may take, connecting included. When Redis does not answer in time
    /// the operation fails with <see cref="SessionStoreException"/>, whatever the client library's own timeouts are.
    /// </summary>
    /// <remarks>
    /// A timeout means "outcome unknown": the command may still run when Redis answers again, or the client may drop
    /// it. Every write is one script, so it is applied whole or not at all. After a timed-out update, the session's
    /// version is unchanged (nothing was written) or one higher with the whole change applied; a timed-out touch may
    /// have slid the session; a timed-out delete may have removed it; a timed-out create may have created it (a retry
    /// with the same session then returns <see langword="false"/>: read the id to tell). Retry idempotent operations,
    /// and use <see cref="SessionChanges.ExpectedVersion"/> to retry an update exactly once.
    /// </remarks>
    /// <value>Default 5 seconds. Positive, at most 5 minutes.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public TimeSpan OperationTimeout
    {
        get => _operationTimeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _operationTimeout = value;
        }
    }

    /// <summary>
    /// Gets or sets how long Redis keeps a session past its logical expiry before its TTL reclaims it. Logical
    /// expiry is always decided by the manager's clock; the margin lets the sweep see (and report) sessions that
    /// expired and absorbs clock skew between application nodes.
    /// </summary>
    /// <value>Default 5 minutes. Positive; keep it longer than the cleanup interval.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public TimeSpan ExpiryGracePeriod
    {
        get => _expiryGracePeriod;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _expiryGracePeriod = value;
        }
    }
}
