using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SessionKit.Internal;

namespace SessionKit.Caching;

/// <summary>
/// The <see cref="ISessionBroadcaster"/> over an <see cref="ISessionBackplane"/> (the same channel as cache
/// invalidations): local subscribers get a notification at once, other nodes through the backplane. Publishing
/// only ever tries to write into each subscriber's bounded buffer, so a slow subscriber is dropped (with a warning)
/// instead of stalling the publisher.
/// </summary>
internal sealed class SessionBroadcaster : ISessionBroadcaster, IAsyncDisposable, IDisposable
{
    private readonly ISessionBackplane _backplane;
    private readonly SessionBroadcasterOptions _options;
    private readonly ILogger _logger;
    private readonly SessionKitMetrics _metrics;
    private readonly string _nodeId = Convert.ToBase64String(RandomNumberGenerator.GetBytes(9));
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SessionSubscription[]> _bySession = new(StringComparer.Ordinal);
    private readonly IDisposable _backplaneSubscription;
    private SessionSubscription[] _all = [];
    private int _disposed;

    /// <summary>Initializes a new instance of the <see cref="SessionBroadcaster"/> class.</summary>
    /// <param name="backplane">Carries notifications between nodes.</param>
    /// <param name="options">The options; <see langword="null"/> for defaults.</param>
    /// <param name="loggerFactory">The logger factory; <see langword="null"/> for no logging.</param>
    /// <param name="meterFactory">The meter factory; <see langword="null"/> for the process-wide SessionKit meter.</param>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="SessionBroadcasterOptions.SubscriberBufferCapacity"/> is not positive.</exception>
    public SessionBroadcaster(ISessionBackplane backplane, IOptions<SessionBroadcasterOptions>? options = null, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(backplane);
        _backplane = backplane;
        _options = options?.Value ?? new SessionBroadcasterOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.SubscriberBufferCapacity, "SessionBroadcasterOptions.SubscriberBufferCapacity");
        _logger = (ILogger?)loggerFactory?.CreateLogger<SessionBroadcaster>() ?? NullLogger.Instance;
        _metrics = new SessionKitMetrics(meterFactory);
        _backplaneSubscription = backplane.Subscribe(new BackplaneSubscriber(this));
    }

    /// <summary>Gets how many subscriptions are open on this node.</summary>
    public int SubscriberCount
    {
        get
        {
            lock (_lock)
            {
                return _all.Length + _bySession.Values.Sum(static s => s.Length);
            }
        }
    }

    /// <inheritdoc />
    public ValueTask PublishAsync(string sessionId, string payload, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        ArgumentNullException.ThrowIfNull(payload);
        return PublishCoreAsync(sessionId, payload, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask PublishToAllAsync(string payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return PublishCoreAsync(null, payload, cancellationToken);
    }

    /// <inheritdoc />
    public SessionSubscription Subscribe(string? sessionId)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (sessionId is not null)
        {
            ArgumentException.ThrowIfNullOrEmpty(sessionId);
        }

        var subscription = new SessionSubscription(sessionId, _options.SubscriberBufferCapacity, Unsubscribe);
        lock (_lock)
        {
            if (sessionId is null)
            {
                _all = [.. _all, subscription];
            }
            else
            {
                _bySession[sessionId] = _bySession.TryGetValue(sessionId, out var existing) ? [.. existing, subscription] : [subscription];
            }
        }

        return subscription;
    }

    /// <summary>Closes every subscription (readers complete) and stops listening to the backplane.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Closes every subscription (readers complete) and stops listening to the backplane.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _backplaneSubscription.Dispose();
        SessionSubscription[] open;
        lock (_lock)
        {
            open = [.. _all, .. _bySession.Values.SelectMany(static s => s)];
            _all = [];
            _bySession.Clear();
        }

        foreach (var subscription in open)
        {
            subscription.Close();
        }
    }

    private async ValueTask PublishCoreAsync(string? sessionId, string payload, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Deliver(new SessionNotification(sessionId, payload));
        try
        {
            await _backplane.PublishAsync(
                new SessionBackplaneMessage { SourceId = _nodeId, Action = SessionBackplaneAction.Notification, SessionId = sessionId, Payload = payload },
                cancellationToken).ConfigureAwait(false);
        }
        catch (SessionBackplaneException ex)
        {
            SessionCaching.Log.BroadcastPublishFailed(_logger, ex);
            throw;
        }
    }

    private void Deliver(SessionNotification notification)
    {
        SessionSubscription[] targets;
        lock (_lock)
        {
            if (notification.SessionId is { } id)
            {
                targets = _bySession.TryGetValue(id, out var subscribers) ? [.. subscribers, .. _all] : _all;
            }
            else
            {
                targets = [.. _all, .. _bySession.Values.SelectMany(static s => s)];
            }
        }

        var delivered = 0;
        foreach (var subscription in targets)
        {
            if (subscription.TryDeliver(notification))
            {
                delivered++;
            }
            else if (subscription.Drop())
            {
                // Full: this subscriber cannot keep up. Dropped rather than waited for.
                _metrics.BroadcastDropped.Add(1);
                SessionCaching.Log.SubscriberDropped(_logger, _options.SubscriberBufferCapacity);
            }
        }

        if (delivered > 0)
        {
            _metrics.BroadcastDelivered.Add(delivered);
        }
    }

    private void EndSession(string sessionId)
    {
        SessionSubscription[]? ended;
        lock (_lock)
        {
            if (_bySession.Remove(sessionId, out ended))
            {
                foreach (var subscription in ended)
                {
                    subscription.MarkSessionEnded();
                }
            }
        }

        foreach (var subscription in ended ?? [])
        {
            subscription.Close();
        }
    }

    private void Unsubscribe(SessionSubscription subscription)
    {
        lock (_lock)
        {
            if (subscription.SessionId is null)
            {
                _all = Array.FindAll(_all, s => !ReferenceEquals(s, subscription));
            }
            else if (_bySession.TryGetValue(subscription.SessionId, out var subscribers))
            {
                var remaining = Array.FindAll(subscribers, s => !ReferenceEquals(s, subscription));
                if (remaining.Length == 0)
                {
                    _bySession.Remove(subscription.SessionId);
                }
                else
                {
                    _bySession[subscription.SessionId] = remaining;
                }
            }
        }
    }

    private sealed class BackplaneSubscriber(SessionBroadcaster owner) : ISessionBackplaneSubscriber
    {
        public void OnMessage(SessionBackplaneMessage message)
        {
            if (message.IsTerminal && message.SessionId is { } ended)
            {
                // Deleted, expired or rotated away, on any node: a logged-out session must stop receiving.
                owner.EndSession(ended);
                return;
            }

            if (message.Action == SessionBackplaneAction.Notification && message.Payload is { } payload
                && !string.Equals(message.SourceId, owner._nodeId, StringComparison.Ordinal) && Volatile.Read(ref owner._disposed) == 0)
            {
                owner.Deliver(new SessionNotification(message.SessionId, payload));
            }
        }

        public void OnConnectionChanged(bool connected)
        {
            // Notifications are best effort: nothing to flush.
        }
    }
}
