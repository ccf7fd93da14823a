using Microsoft.Extensions.Time.Testing;

namespace SessionKit.Tests;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that starts at 2030-01-01T00:00:00Z (unless told otherwise) and counts the timers
/// created through it, for tests that check a component arms, re-arms or disposes its timers.
/// </summary>
/// <remarks>
/// Timers fire synchronously, on the thread that moves the clock, when <see cref="FakeTimeProvider.Advance"/> (or
/// <see cref="FakeTimeProvider.SetUtcNow"/>) reaches their due time. Inside such a callback
/// <see cref="FakeTimeProvider.GetUtcNow"/> reads the target time of the move, not the timer's due time: a test that
/// needs each firing to observe its own instant advances step by step.
/// </remarks>
public sealed class ManualTimeProvider : FakeTimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<CountingTimer> _timers = [];

    /// <summary>Initializes a new instance of the <see cref="ManualTimeProvider"/> class at 2030-01-01T00:00:00Z.</summary>
    public ManualTimeProvider()
        : this(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ManualTimeProvider"/> class at <paramref name="start"/>.</summary>
    /// <param name="start">The initial time.</param>
    public ManualTimeProvider(DateTimeOffset start)
        : base(start.ToUniversalTime())
    {
    }

    /// <summary>Gets or sets the current time. Setting it forward fires every timer due on the way.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The new value is earlier than the current time.</exception>
    public DateTimeOffset UtcNow
    {
        get => GetUtcNow();
        set => SetUtcNow(value.ToUniversalTime());
    }

    /// <summary>Gets the number of timers created and not yet disposed.</summary>
    public int TimerCount
    {
        get
        {
            lock (_lock)
            {
                return _timers.Count;
            }
        }
    }

    /// <summary>Gets the number of timers that will fire if the clock moves far enough (not disposed, with a due time).</summary>
    public int ArmedTimerCount
    {
        get
        {
            lock (_lock)
            {
                return _timers.Count(static t => t.IsArmed);
            }
        }
    }

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new CountingTimer(this);
        lock (_lock)
        {
            _timers.Add(timer);
        }

        // Armed only once Inner is set: a zero due time fires at once, and the callback may Change or Dispose its timer.
        timer.Inner = base.CreateTimer(
            static s =>
            {
                var (owner, callback, state) = ((CountingTimer, TimerCallback, object?))s!;
                owner.OnFired();
                callback(state);
            },
            (timer, callback, state),
            Timeout.InfiniteTimeSpan,
            Timeout.InfiniteTimeSpan);
        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class CountingTimer(ManualTimeProvider owner) : ITimer
    {
        private bool _armed;
        private bool _periodic;

        public ITimer? Inner { get; set; }

        // Guarded by owner._lock.
        public bool IsArmed => _armed;

        public void Arm(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._lock)
            {
                _armed = dueTime != Timeout.InfiniteTimeSpan;
                _periodic = period != Timeout.InfiniteTimeSpan && period > TimeSpan.Zero;
            }
        }

        public void OnFired()
        {
            lock (owner._lock)
            {
                _armed &= _periodic;
            }
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._lock)
            {
                if (!owner._timers.Contains(this))
                {
                    return false;
                }
            }

            Arm(dueTime, period);
            return Inner!.Change(dueTime, period);
        }

        public void Dispose()
        {
            lock (owner._lock)
            {
                _armed = false;
                owner._timers.Remove(this);
            }

            Inner?.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
