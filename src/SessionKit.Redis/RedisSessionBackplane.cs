using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SessionKit.Caching;
using StackExchange.Redis;

namespace SessionKit.Redis;

/// <summary>
/// An <see cref="ISessionBackplane"/> over Redis pub/sub: every node of an application publishes invalidations and
/// broadcaster notifications on one channel. It reports itself connected only while its own heartbeat comes back
/// through Redis (a lease of <see cref="RedisSessionBackplaneOptions.HeartbeatTimeout"/> from the heartbeat's send
/// time), and disconnected at once when the client reports a broken connection, so caches fail closed.
/// </summary>
/// <remarks>
/// <para>Messages are small binary frames: source node, action, version, session id (the id travels to Redis as it
/// does in the store's keys; it is never logged). Delivery is at most once, as with any pub/sub.</para>
/// <para><b>Strict revocation</b> (<see cref="RevokeAsync"/>). One channel on one Redis delivers to every subscriber
/// in publish order, and a node serves cached entries only while its lease holds: the lease comes from its own
/// heartbeat, and a heartbeat published after a revocation reaches its sender after the revocation. So a node that
/// has not applied a revocation serves only on a lease from a heartbeat sent before the revocation was published,
/// and that lease ends within <see cref="RedisSessionBackplaneOptions.HeartbeatTimeout"/> of it. The revoker
/// publishes, waits for its own copy to come back (every heartbeat published before it has then reached the
/// revoker too, so it knows each node that may hold a lease), and returns when each of those nodes has acknowledged
/// — having applied the message first — or its lease must have ended (its last heartbeat's arrival plus the timeout,
/// plus 1 % and 20 ms for clock-rate differences). When the revoker cannot vouch for its own view (not connected
/// long enough, a reconnection meanwhile, its copy not back), it waits the timeout out from the publish instead. A
/// node joining serves nothing until its own first heartbeat returns; a node leaving says so and stops serving
/// first. All nodes healthy, a revocation costs one pub/sub round trip and each node one acknowledgement.</para>
/// </remarks>
public sealed partial class RedisSessionBackplane : ISessionBackplane, IAsyncDisposable, IDisposable
{
    private const byte FormatVersion = 2;
    private const byte KindMessage = (byte)'M';
    private const byte KindHeartbeat = (byte)'H';
    private const byte KindRevocation = (byte)'R';
    private const byte KindAck = (byte)'A';
    private const byte KindLeave = (byte)'L';

    private readonly RedisSessionBackplaneOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RedisChannel _channel;
    private readonly byte[] _node = RandomNumberGenerator.GetBytes(NodeLength);
    private readonly long _leaseTicks;
    private readonly long _safetyTicks;
    private readonly ConcurrentDictionary<Guid, long> _peers = new();
    private readonly ConcurrentDictionary<long, Revocation> _revocations = new();
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _disposing = new();
    private ISessionBackplaneSubscriber[] _subscribers = [];
    private ITimer? _timer;
    private Task? _starting;
    private IConnectionMultiplexer? _multiplexer;
    private IConnectionMultiplexer? _owned;
    private ISubscriber? _subscriber;
    private Task? _subscribing;
    private ChannelMessageQueue? _queue;
    private long _leaseUntil;
    private long _connectedSince;
    private long _connectionEpoch;
    private long _sequence;
    private volatile bool _connected;
    private bool _subscribed;
    private int _disposed;

    /// <summary>Initializes a new instance of the <see cref="RedisSessionBackplane"/> class; it connects in the background.</summary>
    /// <param name="options">The options.</param>
    /// <param name="timeProvider">The clock for heartbeats; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggerFactory">The logger factory; <see langword="null"/> for no logging.</param>
    /// <exception cref="OptionsValidationException">The options are invalid.</exception>
    public RedisSessionBackplane(IOptions<RedisSessionBackplaneOptions> options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        var validation = new Internal.RedisSessionBackplaneOptionsValidator().Validate(Options.DefaultName, _options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(RedisSessionBackplaneOptions), validation.Failures);
        }

        _time = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<RedisSessionBackplane>();
        _channel = Internal.RedisBackplaneChannel.Create(_options.Channel);
        _leaseTicks = ToTicks(_options.HeartbeatTimeout);
        _safetyTicks = (_leaseTicks / 100) + ToTicks(TimeSpan.FromMilliseconds(20));
        _timer = _time.CreateTimer(static s => ((RedisSessionBackplane)s!).OnHeartbeatTimer(), this, TimeSpan.Zero, _options.HeartbeatInterval);
    }

    /// <inheritdoc />
    /// <remarks>True while this node's lease holds: its latest own heartbeat came back, and was sent less than
    /// <see cref="RedisSessionBackplaneOptions.HeartbeatTimeout"/> ago. Lock-free.</remarks>
    public bool IsConnected => _connected && _time.GetTimestamp() < Volatile.Read(ref _leaseUntil);

    /// <inheritdoc />
    public async ValueTask PublishAsync(SessionBackplaneMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var frame = Encode(message);
        try
        {
            var subscriber = await GetSubscriberAsync().WaitAsync(_options.PublishTimeout, cancellationToken).ConfigureAwait(false);
            await subscriber.PublishAsync(_channel, frame).WaitAsync(_options.PublishTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new SessionBackplaneException($"Could not publish to the Redis session backplane: {ex.GetType().Name}.", ex);
        }
    }

    /// <inheritdoc />
    public IDisposable Subscribe(ISessionBackplaneSubscriber subscriber)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        lock (_lock)
        {
            _subscribers = [.. _subscribers, subscriber];
        }

        return new Subscription(this, subscriber);
    }

    /// <summary>Stops heartbeats, unsubscribes and closes the multiplexer if the backplane created it.</summary>
    /// <returns>A task that completes when closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await LeaveAsync().ConfigureAwait(false);
        var owned = Shutdown();
        await _disposing.CancelAsync().ConfigureAwait(false);
        if (owned is not null)
        {
            await owned.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            owned.Dispose();
        }

        _disposing.Dispose();
    }

    /// <summary>Stops heartbeats, unsubscribes and closes the multiplexer if the backplane created it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var owned = Shutdown();
        _disposing.Cancel();
        owned?.Dispose();
        _disposing.Dispose();
    }

    private IConnectionMultiplexer? Shutdown()
    {
        IConnectionMultiplexer? multiplexer;
        ChannelMessageQueue? queue;
        IConnectionMultiplexer? owned;
        lock (_lock)
        {
            _timer?.Dispose();
            _timer = null;
            _leaseUntil = 0;
            multiplexer = _multiplexer;
            queue = _queue;
            owned = _owned;
            _connected = false;
            _subscribers = [];
        }

        if (multiplexer is not null)
        {
            multiplexer.ConnectionFailed -= OnConnectionFailed;
            multiplexer.ConnectionRestored -= OnConnectionRestored;
        }

        if (owned is null && queue is not null)
        {
            // A shared multiplexer lives on: take our queue off its channel (unless its owner closed it already).
            try
            {
                queue.Unsubscribe(CommandFlags.FireAndForget);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or RedisException or InvalidOperationException)
            {
                Log.SubscriberFailed(_logger, ex);
            }
        }

        return owned;
    }

    private void Unsubscribe(ISessionBackplaneSubscriber subscriber)
    {
        lock (_lock)
        {
            _subscribers = Array.FindAll(_subscribers, s => !ReferenceEquals(s, subscriber));
        }
    }

    private sealed class Subscription(RedisSessionBackplane owner, ISessionBackplaneSubscriber subscriber) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Unsubscribe(subscriber);
            }
        }
    }
}
