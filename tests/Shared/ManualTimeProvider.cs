namespace SessionKit.Tests;

/// <summary>
/// A <see cref="TimeProvider"/> whose clock moves only when a test moves it. Timers created through it fire
/// synchronously, on the thread that moves the clock, when <see cref="Advance"/> (or setting <see cref="UtcNow"/>)
/// reaches their due time; periodic timers re-arm and fire once per period crossed.
/// </summary>
/// <remarks>
/// While a timer callback runs, the clock reads that timer's due time, so a callback observes the instant it was
/// scheduled for; once every due timer has fired the clock rests at the requested instant. The clock never moves
/// backwards, so timestamps (<see cref="GetTimestamp"/>) stay monotonic.
/// </remarks>
public sealed class ManualTimeProvider : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<ManualTimer> _timers = [];
    private DateTimeOffset _utcNow;
    private long _nextSequence;

    /// <summary>Initializes a new instance of the <see cref="ManualTimeProvider"/> class at 2030-01-01T00:00:00Z.</summary>
    public ManualTimeProvider()
        : this(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ManualTimeProvider"/> class at <paramref name="start"/>.</summary>
    /// <param name="start">The initial time.</param>
    public ManualTimeProvider(DateTimeOffset start)
    {
        _utcNow = start.ToUniversalTime();
    }

    /// <summary>Gets or sets the current time. Setting it forward fires every timer due on the way.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The new value is earlier than the current time.</exception>
    public DateTimeOffset UtcNow
    {
        get => GetUtcNow();
        set => AdvanceTo(value.ToUniversalTime());
    }

    /// <summary>Gets or sets the local time zone reported by <see cref="LocalTimeZone"/>.</summary>
    /// <value>Default <see cref="TimeZoneInfo.Utc"/>.</value>
    public TimeZoneInfo LocalTimeZoneOverride { get; set; } = TimeZoneInfo.Utc;

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
                return _timers.Count(static t => t.DueAt is not null);
            }
        }
    }

    /// <inheritdoc />
    public override TimeZoneInfo LocalTimeZone => LocalTimeZoneOverride;

    /// <inheritdoc />
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return _utcNow;
        }
    }

    /// <inheritdoc />
    public override long GetTimestamp()
    {
        lock (_lock)
        {
            return _utcNow.UtcTicks;
        }
    }

    /// <summary>Moves the clock forward, firing every timer that falls due on the way, in due-time order.</summary>
    /// <param name="delta">How far to move; zero fires timers that are already due.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is negative.</exception>
    public void Advance(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        DateTimeOffset target;
        lock (_lock)
        {
            target = _utcNow + delta;
        }

        AdvanceTo(target);
    }

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new ManualTimer(this, callback, state);
        lock (_lock)
        {
            _timers.Add(timer);
        }

        timer.Change(dueTime, period);
        return timer;
    }

    private void AdvanceTo(DateTimeOffset target)
    {
        lock (_lock)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(target, _utcNow, nameof(UtcNow));
        }

        while (true)
        {
            ManualTimer? due = null;
            lock (_lock)
            {
                foreach (var timer in _timers)
                {
                    if (timer.DueAt is { } at && at <= target &&
                        (due is null || at < due.DueAt || (at == due.DueAt && timer.Sequence < due.Sequence)))
                    {
                        due = timer;
                    }
                }

                if (due is null)
                {
                    _utcNow = target;
                    return;
                }

                var dueAt = due.DueAt!.Value;
                if (dueAt > _utcNow)
                {
                    _utcNow = dueAt;
                }

                // Re-arm (or disarm) before the callback runs, so the callback may Change or Dispose its own timer.
                due.DueAt = due.Period > TimeSpan.Zero ? dueAt + due.Period : null;
                due.Sequence = _nextSequence++;
            }

            due.Fire();
        }
    }

    private void FireIfDue()
    {
        // A timer armed with a zero due time fires at once, as a real timer would (here synchronously).
        AdvanceTo(GetUtcNow());
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private bool _disposed;

        // Guarded by owner._lock.
        public DateTimeOffset? DueAt { get; set; }

        public TimeSpan Period { get; private set; }

        public long Sequence { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            ValidateSpan(dueTime, nameof(dueTime));
            ValidateSpan(period, nameof(period));
            lock (owner._lock)
            {
                if (_disposed)
                {
                    return false;
                }

                Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
                DueAt = dueTime == Timeout.InfiniteTimeSpan ? null : owner._utcNow + dueTime;
                Sequence = owner._nextSequence++;
            }

            if (dueTime == TimeSpan.Zero)
            {
                owner.FireIfDue();
            }

            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner._lock)
            {
                _disposed = true;
                DueAt = null;
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }

        private static void ValidateSpan(TimeSpan value, string paramName)
        {
            if (value != Timeout.InfiniteTimeSpan && value < TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(paramName, value, "The time span must be non-negative or Timeout.InfiniteTimeSpan.");
            }
        }
    }
}
