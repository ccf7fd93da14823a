using System.Threading.Channels;

namespace SessionKit.Caching;

/// <summary>One subscriber of <see cref="ISessionBroadcaster"/>: read <see cref="Reader"/>, dispose to stop.</summary>
public sealed class SessionSubscription : IDisposable
{
    private readonly Channel<SessionNotification> _channel;
    private readonly Action<SessionSubscription> _unsubscribe;
    private int _closed;
    private int _sessionEnded;

    internal SessionSubscription(string? sessionId, int capacity, Action<SessionSubscription> unsubscribe)
    {
        SessionId = sessionId;
        _unsubscribe = unsubscribe;
        _channel = Channel.CreateBounded<SessionNotification>(new BoundedChannelOptions(capacity)
        {
            SingleReader = false,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Gets the session subscribed to; <see langword="null"/> for every notification.</summary>
    public string? SessionId { get; }

    /// <summary>
    /// Gets the notifications; it completes when the subscription is disposed, dropped, its session ends or the
    /// broadcaster closes.
    /// </summary>
    public ChannelReader<SessionNotification> Reader => _channel.Reader;

    /// <summary>Gets a value indicating whether the broadcaster dropped this subscriber because its buffer was full.</summary>
    public bool IsDropped { get; private set; }

    /// <summary>
    /// Gets a value indicating whether the subscription was closed because its session ended: deleted (logged out),
    /// expired or rotated to a new id, on this node or another. Subscribe again with the new id after a rotation.
    /// </summary>
    public bool IsSessionEnded => Volatile.Read(ref _sessionEnded) != 0;

    /// <summary>Stops the subscription; notifications already buffered can still be read.</summary>
    public void Dispose()
    {
        if (Close())
        {
            _unsubscribe(this);
        }
    }

    /// <summary>Hands over a notification without waiting; <see langword="false"/> when the buffer is full.</summary>
    internal bool TryDeliver(SessionNotification notification) => _channel.Writer.TryWrite(notification);

    internal bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Closes a subscriber that fell behind; <see langword="false"/> when it was closed already.</summary>
    internal bool Drop()
    {
        if (IsClosed)
        {
            return false;
        }

        IsDropped = true;
        if (Close())
        {
            _unsubscribe(this);
            return true;
        }

        return false;
    }

    /// <summary>Records that the session ended; set before <see cref="Close"/> so a reader that sees completion sees it.</summary>
    internal void MarkSessionEnded() => Volatile.Write(ref _sessionEnded, 1);

    internal bool Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return false;
        }

        _channel.Writer.TryComplete();
        return true;
    }
}
