using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SessionKit.Caching;
using StackExchange.Redis;

namespace SessionKit.Redis;

/// <summary>
/// An <see cref="ISessionBackplane"/> over Redis pub/sub: every node of an application publishes invalidations and
/// broadcaster notifications on one channel. It reports itself connected only while its own heartbeat comes back
/// through Redis, and disconnected at once when the client reports a broken connection, so caches fail closed.
/// </summary>
/// <remarks>
/// Messages are small binary frames: source node, action, version, session id (the id travels to Redis as it does in
/// the store's keys; it is never logged). Delivery is at most once, as with any pub/sub.
/// </remarks>
public sealed partial class RedisSessionBackplane : ISessionBackplane, IAsyncDisposable, IDisposable
{
    private const byte FormatVersion = 1;
    private const byte KindMessage = (byte)'M';
    private const byte KindHeartbeat = (byte)'H';

    private readonly RedisSessionBackplaneOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RedisChannel _channel;
    private readonly byte[] _heartbeat;
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
    private long _lastHeartbeat;
    private bool _connected;
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
        _channel = RedisChannel.Literal(_options.Channel);
        _heartbeat = [FormatVersion, KindHeartbeat, .. RandomNumberGenerator.GetBytes(16)];
        _timer = _time.CreateTimer(static s => ((RedisSessionBackplane)s!).OnHeartbeatTimer(), this, TimeSpan.Zero, _options.HeartbeatInterval);
    }

    /// <inheritdoc />
    public bool IsConnected
    {
        get
        {
            lock (_lock)
            {
                return _connected;
            }
        }
    }

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
            // A shared multiplexer lives on: take our queue off its channel.
            queue.Unsubscribe(CommandFlags.FireAndForget);
        }

        return owned;
    }

    private Task<ISubscriber> GetSubscriberAsync()
    {
        lock (_lock)
        {
            if (_subscriber is { } ready)
            {
                return Task.FromResult(ready);
            }

            if (_starting is null || _starting.IsFaulted || _starting.IsCanceled)
            {
                _starting = ConnectAsync();
            }

            return WaitAsync(_starting);
        }

        async Task<ISubscriber> WaitAsync(Task starting)
        {
            await starting.ConfigureAwait(false);
            lock (_lock)
            {
                return _subscriber ?? throw new InvalidOperationException("The backplane is not connected.");
            }
        }
    }

    private async Task ConnectAsync()
    {
        var multiplexer = _options.ConnectionMultiplexer
            ?? (_options.ConnectionMultiplexerFactory is { } factory ? await factory().ConfigureAwait(false) : null);
        ConnectionMultiplexer? owned = null;
        if (multiplexer is null)
        {
            var config = ConfigurationOptions.Parse(_options.Configuration!);
            config.AbortOnConnectFail = false;
            config.BacklogPolicy = BacklogPolicy.FailFast;
            multiplexer = owned = await ConnectionMultiplexer.ConnectAsync(config).ConfigureAwait(false);
        }

        lock (_lock)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                owned?.Dispose();
                throw new ObjectDisposedException(nameof(RedisSessionBackplane));
            }

            _multiplexer = multiplexer;
            _owned = owned;
            _subscriber = multiplexer.GetSubscriber();
        }

        multiplexer.ConnectionFailed += OnConnectionFailed;
        multiplexer.ConnectionRestored += OnConnectionRestored;
    }

    private void OnHeartbeatTimer()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        _ = HeartbeatAsync();
    }

    private async Task HeartbeatAsync()
    {
        try
        {
            var subscriber = await GetSubscriberAsync().ConfigureAwait(false);
            if (!Volatile.Read(ref _subscribed))
            {
                Task subscribing;
                lock (_lock)
                {
                    // One subscription, however many heartbeats race here (a second one would deliver every message twice).
                    if (_subscribing is null || _subscribing.IsFaulted || _subscribing.IsCanceled)
                    {
                        _subscribing = SubscribeAsync(subscriber);
                    }

                    subscribing = _subscribing;
                }

                await subscribing.ConfigureAwait(false);
            }

            CheckHeartbeatAge();
            await subscriber.PublishAsync(_channel, _heartbeat).WaitAsync(_options.PublishTimeout, _disposing.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            if (!Volatile.Read(ref _subscribed))
            {
                Log.SubscribeFailed(_logger, ex);
            }

            SetConnected(false, "heartbeat could not be sent");
        }
    }

    /// <summary>
    /// Subscribes through a <see cref="ChannelMessageQueue"/>: 2.x runs plain handlers concurrently, which would let
    /// one publisher's messages arrive out of order; the queue hands them over one at a time, in order.
    /// </summary>
    private async Task SubscribeAsync(ISubscriber subscriber)
    {
        var queue = await subscriber.SubscribeAsync(_channel).ConfigureAwait(false);
        queue.OnMessage(OnRedisMessage);
        lock (_lock)
        {
            _queue = queue;
        }

        Volatile.Write(ref _subscribed, true);
    }

    private void CheckHeartbeatAge()
    {
        var last = Volatile.Read(ref _lastHeartbeat);
        if (last != 0 && _time.GetElapsedTime(last) > _options.HeartbeatTimeout)
        {
            SetConnected(false, "no heartbeat within the timeout");
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) => SetConnected(false, $"{e.ConnectionType} connection failed: {e.FailureType}");

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        // Not connected yet: only our own heartbeat coming back proves the subscription is live again.
        OnHeartbeatTimer();
    }

    private void OnRedisMessage(ChannelMessage received)
    {
        byte[]? frame = received.Message;
        if (frame is null || frame.Length < 2 || frame[0] != FormatVersion)
        {
            Log.Unreadable(_logger, frame?.Length ?? 0);
            return;
        }

        if (frame[1] == KindHeartbeat)
        {
            if (frame.AsSpan().SequenceEqual(_heartbeat))
            {
                Volatile.Write(ref _lastHeartbeat, _time.GetTimestamp());
                SetConnected(true, null);
            }

            return;
        }

        var message = Decode(frame);
        if (message is null)
        {
            Log.Unreadable(_logger, frame.Length);
            return;
        }

        foreach (var subscriber in Volatile.Read(ref _subscribers))
        {
            try
            {
                subscriber.OnMessage(message);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.SubscriberFailed(_logger, ex);
            }
        }
    }

    private void SetConnected(bool connected, string? reason)
    {
        ISessionBackplaneSubscriber[] subscribers;
        lock (_lock)
        {
            if (_connected == connected || Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            _connected = connected;
            subscribers = _subscribers;
            if (!connected)
            {
                // The next heartbeat that comes back reconnects.
                _lastHeartbeat = 0;
            }

            // Notify under the lock, so subscribers see transitions in order.
            if (connected)
            {
                Log.Connected(_logger);
            }
            else
            {
                Log.Disconnected(_logger, reason ?? "unknown");
            }

            foreach (var subscriber in subscribers)
            {
                try
                {
                    subscriber.OnConnectionChanged(connected);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    Log.SubscriberFailed(_logger, ex);
                }
            }
        }
    }

    private void Unsubscribe(ISessionBackplaneSubscriber subscriber)
    {
        lock (_lock)
        {
            _subscribers = Array.FindAll(_subscribers, s => !ReferenceEquals(s, subscriber));
        }
    }

    internal static byte[] Encode(SessionBackplaneMessage message)
    {
        var source = Encoding.UTF8.GetBytes(message.SourceId);
        var id = message.SessionId is null ? null : Encoding.UTF8.GetBytes(message.SessionId);
        var payload = message.Payload is null ? null : Encoding.UTF8.GetBytes(message.Payload);
        var frame = new byte[2 + 1 + 8 + 12 + source.Length + (id?.Length ?? 0) + (payload?.Length ?? 0)];
        frame[0] = FormatVersion;
        frame[1] = KindMessage;
        frame[2] = (byte)message.Action;
        BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(3), message.Version);
        var at = 11;
        at = Write(frame, at, source);
        at = Write(frame, at, id);
        Write(frame, at, payload);
        return frame;

        static int Write(byte[] frame, int at, byte[]? bytes)
        {
            BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(at), bytes?.Length ?? -1);
            bytes?.CopyTo(frame, at + 4);
            return at + 4 + (bytes?.Length ?? 0);
        }
    }

    internal static SessionBackplaneMessage? Decode(byte[] frame)
    {
        if (frame.Length < 23 || frame[1] != KindMessage || frame[2] > (byte)SessionBackplaneAction.Notification)
        {
            return null;
        }

        var at = 11;
        if (!TryRead(frame, ref at, out var source) || source is null || !TryRead(frame, ref at, out var id) || !TryRead(frame, ref at, out var payload))
        {
            return null;
        }

        return new SessionBackplaneMessage
        {
            SourceId = source,
            Action = (SessionBackplaneAction)frame[2],
            Version = BinaryPrimitives.ReadInt64LittleEndian(frame.AsSpan(3)),
            SessionId = id,
            Payload = payload,
        };

        static bool TryRead(byte[] frame, ref int at, out string? value)
        {
            value = null;
            if (at + 4 > frame.Length)
            {
                return false;
            }

            var length = BinaryPrimitives.ReadInt32LittleEndian(frame.AsSpan(at));
            at += 4;
            if (length < 0)
            {
                return length == -1;
            }

            if (at + length > frame.Length)
            {
                return false;
            }

            value = Encoding.UTF8.GetString(frame, at, length);
            at += length;
            return true;
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
