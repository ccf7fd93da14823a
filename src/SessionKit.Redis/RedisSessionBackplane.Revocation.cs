using SessionKit.Caching;
using StackExchange.Redis;

namespace SessionKit.Redis;

// Strict revocation: publish, wait for the own copy (the cut that names every node that may hold a lease), then for
// each of those nodes' acknowledgement or the end of its lease. The argument is in the type's remarks.
public sealed partial class RedisSessionBackplane
{
    /// <inheritdoc />
    /// <remarks>
    /// All nodes healthy, this takes one pub/sub round trip plus the slowest acknowledgement. A node that stopped
    /// answering (killed, partitioned) makes it wait until that node's lease must have ended — at most
    /// <see cref="RedisSessionBackplaneOptions.HeartbeatTimeout"/> plus 1 % and 20 ms after the node's last
    /// heartbeat; so does a revoker that cannot vouch for its own view of the channel (just connected, or not
    /// connected), counted from the publish.
    /// </remarks>
    public async ValueTask RevokeAsync(SessionBackplaneMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        var sequence = Interlocked.Increment(ref _sequence);
        var revocation = new Revocation();
        _revocations[sequence] = revocation;
        try
        {
            // Our view of who holds a lease is complete only if no message could have been missed over a whole
            // lease before the publish: connected, continuously (the epoch is compared again at the echo), since then.
            var epoch = Volatile.Read(ref _connectionEpoch);
            var complete = CanVouch;

            await PublishRevocationAsync(EncodeRevocation(message, sequence), cancellationToken).ConfigureAwait(false);

            // Every lease granted by a heartbeat published before the revocation ends by then.
            var fallback = _time.GetTimestamp() + _leaseTicks + _safetyTicks;
            if (complete && await WaitUntilAsync(revocation.Echoed, fallback, cancellationToken).ConfigureAwait(false) && revocation.EchoEpoch == epoch)
            {
                // The roster taken at the echo names every node that may hold a lease: each acknowledges, or its lease ends.
                await WaitUntilAsync(revocation.Acknowledged, Math.Min(revocation.Deadline, fallback), cancellationToken).ConfigureAwait(false);
                return;
            }

            var remaining = fallback - _time.GetTimestamp();
            if (remaining > 0)
            {
                await Task.Delay(FromTicks(remaining), _time, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _revocations.TryRemove(sequence, out _);
        }
    }

    /// <summary>
    /// Gets a value indicating whether this node's view of the channel is complete enough to name every node that may
    /// hold a lease: connected, continuously, for a whole lease (plus the clock margin). Until then revocations wait
    /// the lease out.
    /// </summary>
    internal bool CanVouch => IsConnected && _time.GetTimestamp() - Volatile.Read(ref _connectedSince) >= _leaseTicks + _safetyTicks;

    /// <summary>
    /// Publishes, retrying for up to <see cref="RedisSessionBackplaneOptions.PublishTimeout"/> (a reconnecting client
    /// fails fast): the other nodes learn of a revocation only from this message, so a transient failure must not lose it.
    /// </summary>
    private async Task PublishRevocationAsync(byte[] frame, CancellationToken cancellationToken)
    {
        var start = _time.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(10);
        while (true)
        {
            var left = _options.PublishTimeout - _time.GetElapsedTime(start);
            try
            {
                var subscriber = await GetSubscriberAsync().WaitAsync(left, _time, cancellationToken).ConfigureAwait(false);
                await subscriber.PublishAsync(_channel, frame).WaitAsync(_options.PublishTimeout - _time.GetElapsedTime(start), _time, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (ex is TimeoutException or ArgumentOutOfRangeException || _time.GetElapsedTime(start) + delay >= _options.PublishTimeout)
                {
                    throw new SessionBackplaneException($"Could not publish a revocation to the Redis session backplane within {_options.PublishTimeout.TotalMilliseconds:F0} ms: {ex.GetType().Name}.", ex);
                }
            }

            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMilliseconds(200).Ticks));
        }
    }

    /// <summary>The nodes whose heartbeat arrived recently enough that they may hold a lease, each with the time it ends by.</summary>
    private Dictionary<Guid, long> Roster()
    {
        var now = _time.GetTimestamp();
        var roster = new Dictionary<Guid, long>();
        foreach (var (node, heard) in _peers)
        {
            var ends = heard + _leaseTicks + _safetyTicks;
            if (ends > now)
            {
                roster[node] = ends;
            }
            else
            {
                // Silent for longer than a lease: forgotten until it sends a heartbeat again.
                _peers.TryRemove(KeyValuePair.Create(node, heard));
            }
        }

        return roster;
    }

    private void Acknowledge(ReadOnlySpan<byte> origin, long sequence)
    {
        var frame = EncodeAck(origin, sequence);
        _ = AcknowledgeAsync(frame);

        async Task AcknowledgeAsync(byte[] frame)
        {
            try
            {
                var subscriber = await GetSubscriberAsync().ConfigureAwait(false);
                await subscriber.PublishAsync(_channel, frame).WaitAsync(_options.PublishTimeout, _disposing.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The revoker then waits for our lease to end instead; nothing is lost but time.
                Log.AckFailed(_logger, ex);
            }
        }
    }

    /// <summary>Stops serving (the lease ends now), then tells the other nodes so their revocations stop waiting for this one.</summary>
    private async Task LeaveAsync()
    {
        Volatile.Write(ref _leaseUntil, 0);
        ISubscriber? subscriber;
        lock (_lock)
        {
            subscriber = _subscribed ? _subscriber : null;
        }

        if (subscriber is null)
        {
            return;
        }

        try
        {
            await subscriber.PublishAsync(_channel, EncodeLeave()).WaitAsync(_options.PublishTimeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.AckFailed(_logger, ex);
        }
    }

    /// <summary>Waits for a task until a timestamp of the clock; <see langword="true"/> when the task completed first.</summary>
    private async Task<bool> WaitUntilAsync(Task task, long deadline, CancellationToken cancellationToken)
    {
        var remaining = deadline - _time.GetTimestamp();
        if (task.IsCompleted || remaining <= 0)
        {
            return task.IsCompleted;
        }

        try
        {
            await task.WaitAsync(FromTicks(remaining), _time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return task.IsCompleted;
        }
    }

    private long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private TimeSpan FromTicks(long ticks) => TimeSpan.FromSeconds((double)ticks / _time.TimestampFrequency);

    /// <summary>One revocation in flight: its own copy's arrival (with the roster at that instant) and the acknowledgements.</summary>
    private sealed class Revocation
    {
        private readonly Lock _lock = new();
        private readonly HashSet<Guid> _acked = [];
        private readonly TaskCompletionSource _echoed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _acknowledged = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Dictionary<Guid, long>? _waiting;

        public Task Echoed => _echoed.Task;

        public Task Acknowledged => _acknowledged.Task;

        /// <summary>Gets the connection epoch when the own copy arrived (compared with the one at the start).</summary>
        public long EchoEpoch { get; private set; } = -1;

        /// <summary>Gets when the last lease of the nodes still not acknowledging ends.</summary>
        public long Deadline
        {
            get
            {
                lock (_lock)
                {
                    var deadline = 0L;
                    foreach (var ends in _waiting?.Values ?? Enumerable.Empty<long>())
                    {
                        deadline = Math.Max(deadline, ends);
                    }

                    return deadline;
                }
            }
        }

        public void OnEcho(Dictionary<Guid, long> roster, long epoch)
        {
            lock (_lock)
            {
                if (_waiting is not null)
                {
                    return;
                }

                foreach (var node in _acked)
                {
                    roster.Remove(node);
                }
                _waiting = roster;
                EchoEpoch = epoch;
            }

            _echoed.TrySetResult();
            CompleteIfDone();
        }

        public void OnAck(Guid node)
        {
            lock (_lock)
            {
                _acked.Add(node);
                _waiting?.Remove(node);
            }

            CompleteIfDone();
        }

        private void CompleteIfDone()
        {
            bool done;
            lock (_lock)
            {
                done = _waiting is { Count: 0 };
            }

            if (done)
            {
                _acknowledged.TrySetResult();
            }
        }
    }
}
