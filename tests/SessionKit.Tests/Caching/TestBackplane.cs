using SessionKit.Caching;

namespace SessionKit.Tests.Caching;

/// <summary>An in-process backplane a test can disconnect: while down it drops every message, as a broken pub/sub would.</summary>
internal sealed class TestBackplane : ISessionBackplane
{
    private readonly Lock _lock = new();
    private readonly List<ISessionBackplaneSubscriber> _subscribers = [];
    private volatile bool _connected = true;

    public bool IsConnected => _connected;

    public int Published { get; private set; }

    public ValueTask PublishAsync(SessionBackplaneMessage message, CancellationToken cancellationToken = default)
    {
        Published++;
        if (_connected)
        {
            foreach (var subscriber in Snapshot())
            {
                subscriber.OnMessage(message);
            }
        }

        return ValueTask.CompletedTask;
    }

    public int Revoked { get; private set; }

    public ValueTask RevokeAsync(SessionBackplaneMessage message, CancellationToken cancellationToken = default)
    {
        Revoked++;
        return PublishAsync(message, cancellationToken);
    }

    public IDisposable Subscribe(ISessionBackplaneSubscriber subscriber)
    {
        lock (_lock)
        {
            _subscribers.Add(subscriber);
        }

        return new Unsubscriber(() =>
        {
            lock (_lock)
            {
                _subscribers.Remove(subscriber);
            }
        });
    }

    public void SetConnected(bool connected)
    {
        _connected = connected;
        foreach (var subscriber in Snapshot())
        {
            subscriber.OnConnectionChanged(connected);
        }
    }

    /// <summary>Delivers a message as if another node had sent it.</summary>
    public void Inject(SessionBackplaneMessage message)
    {
        foreach (var subscriber in Snapshot())
        {
            subscriber.OnMessage(message);
        }
    }

    private ISessionBackplaneSubscriber[] Snapshot()
    {
        lock (_lock)
        {
            return [.. _subscribers];
        }
    }

    private sealed class Unsubscriber(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}

/// <summary>A store whose reads can be held at a gate, to make loads overlap with other operations.</summary>
internal sealed class GatedStore(ISessionStore inner) : DelegatingStore(inner)
{
    private TaskCompletionSource? _gate;
    private int _gets;

    public int Gets => Volatile.Read(ref _gets);

    private int _touches;

    public int Touches => Volatile.Read(ref _touches);

    public int Waiting;

    public void Close() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => Interlocked.Exchange(ref _gate, null)?.TrySetResult();

    public override ValueTask<Session?> GetAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _gets);
        var gate = _gate;
        return gate is null ? Inner.GetAsync(id, now, cancellationToken) : WaitAsync(gate, id, now, cancellationToken);
    }

    public override ValueTask<bool> TouchAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _touches);
        return Inner.TouchAsync(id, now, cancellationToken);
    }

    private async ValueTask<Session?> WaitAsync(TaskCompletionSource gate, string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Read first, then wait: the value is what the store held when the load started.
        var session = await Inner.GetAsync(id, now, cancellationToken);
        Interlocked.Increment(ref Waiting);
        await gate.Task;
        return session;
    }
}
