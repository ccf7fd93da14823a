using System.Buffers.Binary;
using SessionKit.Caching;
using StackExchange.Redis;

namespace SessionKit.Redis;

// The connection: subscribing, heartbeats that prove it, and the connected state every subscriber follows.
public sealed partial class RedisSessionBackplane
{
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

            CheckLease();

            // The timestamp is taken before the publish: the lease it grants starts no later than the heartbeat
            // reached Redis, which is what a revoker's wait is measured against.
            var heartbeat = EncodeHeartbeat(_time.GetTimestamp());
            await subscriber.PublishAsync(_channel, heartbeat).WaitAsync(_options.PublishTimeout, _disposing.Token).ConfigureAwait(false);
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

    private void CheckLease()
    {
        if (_connected && _time.GetTimestamp() >= Volatile.Read(ref _leaseUntil))
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

    // Runs for one message at a time, in the channel's order (a ChannelMessageQueue): the ordering strict revocation
    // relies on. An acknowledgement is published only after the subscribers have applied the message.
    private void OnRedisMessage(ChannelMessage received)
    {
        byte[]? frame = received.Message;
        if (frame is null || frame.Length < 2 || frame[0] != FormatVersion)
        {
            Log.Unreadable(_logger, frame?.Length ?? 0);
            return;
        }

        switch (frame[1])
        {
            case KindHeartbeat when frame.Length == HeartbeatLength:
                OnHeartbeat(frame);
                return;
            case KindAck when frame.Length == AckLength:
                if (frame.AsSpan(2 + NodeLength, NodeLength).SequenceEqual(_node)
                    && _revocations.TryGetValue(BinaryPrimitives.ReadInt64LittleEndian(frame.AsSpan(2 + NodeLength + NodeLength)), out var acked))
                {
                    acked.OnAck(new Guid(frame.AsSpan(2, NodeLength)));
                }

                return;
            case KindLeave when frame.Length == LeaveLength:
                OnLeave(new Guid(frame.AsSpan(2, NodeLength)));
                return;
            case KindRevocation when frame.Length > RevocationHeader:
                if (DecodeBody(frame, RevocationHeader) is not { } revoked)
                {
                    break;
                }

                Deliver(revoked);
                var origin = frame.AsSpan(2, NodeLength);
                var sequence = BinaryPrimitives.ReadInt64LittleEndian(frame.AsSpan(2 + NodeLength));
                if (origin.SequenceEqual(_node))
                {
                    if (_revocations.TryGetValue(sequence, out var mine))
                    {
                        mine.OnEcho(Roster(), Volatile.Read(ref _connectionEpoch));
                    }
                }
                else
                {
                    Acknowledge(origin, sequence);
                }

                return;
            case KindMessage:
                if (DecodeBody(frame, 2) is not { } message)
                {
                    break;
                }

                Deliver(message);
                return;
        }

        Log.Unreadable(_logger, frame.Length);
    }

    private void OnHeartbeat(byte[] frame)
    {
        var now = _time.GetTimestamp();
        if (!frame.AsSpan(2, NodeLength).SequenceEqual(_node))
        {
            _peers[new Guid(frame.AsSpan(2, NodeLength))] = now;
            return;
        }

        var lease = BinaryPrimitives.ReadInt64LittleEndian(frame.AsSpan(2 + NodeLength)) + _leaseTicks;
        if (_connected && now >= Volatile.Read(ref _leaseUntil))
        {
            // The lease lapsed without a connection event: start over as after any disconnection (caches flush).
            SetConnected(false, "no heartbeat within the timeout");
        }

        if (lease <= now)
        {
            // Came back later than the lease it would grant: proves nothing about now.
            return;
        }

        if (lease > Volatile.Read(ref _leaseUntil))
        {
            Volatile.Write(ref _leaseUntil, lease);
        }

        SetConnected(true, null);
    }

    private void OnLeave(Guid node)
    {
        // A leaving node stopped serving before it said so: nothing to wait for.
        _peers.TryRemove(node, out _);
        foreach (var revocation in _revocations.Values)
        {
            revocation.OnAck(node);
        }
    }

    private void Deliver(SessionBackplaneMessage message)
    {
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
            Interlocked.Increment(ref _connectionEpoch);
            if (connected)
            {
                Volatile.Write(ref _connectedSince, _time.GetTimestamp());
            }
            else
            {
                // Only a heartbeat sent from now on can grant a lease again.
                Volatile.Write(ref _leaseUntil, 0);
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
}
