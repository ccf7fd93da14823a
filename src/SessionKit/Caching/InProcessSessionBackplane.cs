namespace SessionKit.Caching;

/// <summary>
/// The default backplane: delivers messages synchronously to the subscribers in this process. Always connected.
/// Right for one node (or several managers in one process); a store shared by several processes needs a
/// cross-process backplane such as <c>RedisSessionBackplane</c>, or no restore-on-miss cache at all.
/// </summary>
public sealed class InProcessSessionBackplane : ISessionBackplane
{
    private readonly Lock _lock = new();
    private ISessionBackplaneSubscriber[] _subscribers = [];

    /// <inheritdoc />
    public bool IsConnected => true;

    /// <inheritdoc />
    public ValueTask PublishAsync(SessionBackplaneMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        foreach (var subscriber in Volatile.Read(ref _subscribers))
        {
            subscriber.OnMessage(message);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    /// <remarks>Delivery is synchronous, so the revocation holds when the subscribers have returned.</remarks>
    public ValueTask RevokeAsync(SessionBackplaneMessage message, CancellationToken cancellationToken = default) => PublishAsync(message, cancellationToken);

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

    private void Unsubscribe(ISessionBackplaneSubscriber subscriber)
    {
        lock (_lock)
        {
            _subscribers = Array.FindAll(_subscribers, s => !ReferenceEquals(s, subscriber));
        }
    }

    private sealed class Subscription(InProcessSessionBackplane owner, ISessionBackplaneSubscriber subscriber) : IDisposable
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
