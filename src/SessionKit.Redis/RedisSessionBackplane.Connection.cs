using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
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
}
