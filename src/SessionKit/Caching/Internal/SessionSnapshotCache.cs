using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace SessionKit.Caching;

/// <summary>
/// The manager's node-local snapshot cache (L1): bounded, one load per id at a time (concurrent misses join it), and
/// coherent by construction: a load never overwrites a newer value, a load that raced with an invalidation is not
/// cached, and every connection change of the backplane flushes everything (an epoch bump, so even loads still in
/// flight cannot insert what they read before the flush). In strict revocation mode every hit also asks the backplane
/// whether this node's lease still holds (<see cref="ISessionBackplane.IsConnected"/>), so a node cut off from the
/// other nodes' invalidations stops serving on its own clock, before any revoker stops waiting for it.
/// </summary>
internal sealed class SessionSnapshotCache
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Flight> _flights = new(StringComparer.Ordinal);
    private readonly int _maxEntries;
    private readonly long _entryTicks;
    private readonly long _disconnectedTicks;
    private readonly Lock _evictLock = new();
    private long _epoch;
    private int _count;
    private readonly ISessionBackplane? _gate;
    private volatile bool _connected;

    public SessionSnapshotCache(SessionCacheOptions options, bool connected, ISessionBackplane? gate = null)
    {
        _gate = gate;
        _maxEntries = options.MaxEntries;
        _entryTicks = options.EntryDuration.Ticks;
        _disconnectedTicks = options.DisconnectedEntryDuration.Ticks;
        _connected = connected;
    }

    /// <summary>Gets how many entries the cache holds (approximately, under concurrency).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Gets how many loads are in flight.</summary>
    public int LoadsInFlight => _flights.Count;

    /// <summary>Gets a value indicating whether the cache currently stores what it loads.</summary>
    public bool IsServing => _connected || _disconnectedTicks > 0;

    /// <summary>Serves a live entry; no allocation.</summary>
    public bool TryGet(string id, DateTimeOffset now, [NotNullWhen(true)] out Session? session)
    {
        if (_entries.TryGetValue(id, out var entry)
            && entry.Epoch == Volatile.Read(ref _epoch)
            && now.UtcTicks < entry.ValidUntilTicks
            && entry.Session.IsLiveAt(now)
            && (_gate is null || _gate.IsConnected))
        {
            // Write only when the millisecond moved: hot entries read by many threads stay unshared in cache lines.
            if (entry.LastUsedTicks != now.UtcTicks)
            {
                entry.LastUsedTicks = now.UtcTicks;
            }

            session = entry.Session;
            return true;
        }

        session = null;
        return false;
    }

    /// <summary>
    /// Loads a missing id once for every concurrent caller. The load runs under <paramref name="loadToken"/> (the
    /// owner's, never a caller's: one caller giving up must not fail the others); each caller waits under its own token.
    /// </summary>
    public Task<Session?> GetOrLoadAsync<TState>(
        string id,
        DateTimeOffset now,
        Func<TState, string, DateTimeOffset, CancellationToken, ValueTask<Session?>> load,
        TState state,
        CancellationToken loadToken)
    {
        Flight? mine = null;
        while (true)
        {
            if (_flights.TryGetValue(id, out var existing))
            {
                return existing.Completion.Task;
            }

            mine ??= new Flight(Volatile.Read(ref _epoch));
            if (_flights.TryAdd(id, mine))
            {
                break;
            }
        }

        // A load may have finished between the caller's miss and this registration (it inserts, then leaves the
        // flights): serve what it cached rather than loading the same id again.
        if (TryGet(id, now, out var cached))
        {
            _flights.TryRemove(KeyValuePair.Create(id, mine));
            mine.Completion.TrySetResult(cached);
            return mine.Completion.Task;
        }

        _ = RunAsync(mine, id, now, load, state, loadToken);
        return mine.Completion.Task;
    }

    private async Task RunAsync<TState>(Flight flight, string id, DateTimeOffset now, Func<TState, string, DateTimeOffset, CancellationToken, ValueTask<Session?>> load, TState state, CancellationToken loadToken)
    {
        try
        {
            var session = await load(state, id, now, loadToken).ConfigureAwait(false);
            if (session is not null)
            {
                var inserted = Insert(id, session, flight.Epoch, now);

                // Re-check after inserting: an invalidation that raced with the load marks the flight first and
                // removes the entry second, so either it sees our entry or we see its mark.
                if (inserted is not null && session.Version < Volatile.Read(ref flight.MinVersion))
                {
                    Remove(id, inserted);
                }
            }

            flight.Completion.TrySetResult(session);
        }
        catch (OperationCanceledException ex)
        {
            flight.Completion.TrySetCanceled(ex.CancellationToken);
        }
        catch (Exception ex)
        {
            flight.Completion.TrySetException(ex);
        }
        finally
        {
            _flights.TryRemove(KeyValuePair.Create(id, flight));
        }
    }

    /// <summary>Stores a snapshot the manager wrote itself (create, update), unless a newer one is cached.</summary>
    public void Put(Session session, DateTimeOffset now)
    {
        RaiseFlight(session.Id, session.Version);
        Insert(session.Id, session, Volatile.Read(ref _epoch), now);
    }

    /// <summary>Records a persisted slide in the cached snapshot (same version only).</summary>
    public void Touched(string id, DateTimeOffset lastAccessedAt)
    {
        if (_entries.TryGetValue(id, out var entry) && entry.Session.LastAccessedAt < lastAccessedAt)
        {
            var slid = new Entry(entry.Session with { LastAccessedAt = lastAccessedAt }, entry.ValidUntilTicks, entry.Epoch) { LastUsedTicks = entry.LastUsedTicks };
            _entries.TryUpdate(id, slid, entry);
        }
    }

    /// <summary>
    /// Applies an invalidation: a terminal one drops the id, an update drops an older snapshot (a newer or equal one
    /// stays: older messages are ignored). Loads in flight for the id will not cache what they read.
    /// </summary>
    public bool Invalidate(string id, long version, bool terminal)
    {
        var floor = terminal ? long.MaxValue : version;
        RaiseFlight(id, floor);
        if (_entries.TryGetValue(id, out var entry) && entry.Session.Version < floor)
        {
            return Remove(id, entry) is not null;
        }

        return false;
    }

    /// <summary>Drops everything, including what loads in flight would insert, and records the backplane's state.</summary>
    public void Flush(bool connected)
    {
        Interlocked.Increment(ref _epoch);
        _connected = connected;
        _entries.Clear();
        Volatile.Write(ref _count, _entries.Count);
    }

    private void RaiseFlight(string id, long floor)
    {
        if (_flights.TryGetValue(id, out var flight))
        {
            // Callers that arrive from now on start a fresh load: the one in flight may have read the older value.
            _flights.TryRemove(KeyValuePair.Create(id, flight));

            var current = Volatile.Read(ref flight.MinVersion);
            while (current < floor)
            {
                var seen = Interlocked.CompareExchange(ref flight.MinVersion, floor, current);
                if (seen == current)
                {
                    break;
                }

                current = seen;
            }
        }
    }

    private Entry? Insert(string id, Session session, long epoch, DateTimeOffset now)
    {
        var duration = _connected ? _entryTicks : _disconnectedTicks;
        if (duration <= 0 || epoch != Volatile.Read(ref _epoch))
        {
            return null;
        }

        var entry = new Entry(session, now.UtcTicks + duration, epoch) { LastUsedTicks = now.UtcTicks };
        while (true)
        {
            if (_entries.TryGetValue(id, out var current))
            {
                // Never overwrite a newer value (a higher version, or the same version slid later) that is still valid.
                if (current.Epoch == epoch
                    && now.UtcTicks < current.ValidUntilTicks
                    && (current.Session.Version > session.Version
                        || (current.Session.Version == session.Version && current.Session.LastAccessedAt >= session.LastAccessedAt)))
                {
                    return null;
                }

                if (_entries.TryUpdate(id, entry, current))
                {
                    break;
                }
            }
            else if (_entries.TryAdd(id, entry))
            {
                if (Interlocked.Increment(ref _count) > _maxEntries)
                {
                    EvictLeastRecentlyUsed();
                }

                break;
            }
        }

        return entry;
    }

    private Entry? Remove(string id, Entry entry)
    {
        if (_entries.TryRemove(KeyValuePair.Create(id, entry)))
        {
            Interlocked.Decrement(ref _count);
            return entry;
        }

        return null;
    }

    /// <summary>Evicts the least recently used tenth in one pass, so the scan's cost is spread over many inserts.</summary>
    private void EvictLeastRecentlyUsed()
    {
        if (!_evictLock.TryEnter())
        {
            return;
        }

        try
        {
            var snapshot = _entries.ToArray();
            var excess = snapshot.Length - _maxEntries;
            if (excess <= 0)
            {
                return;
            }

            var victims = Math.Min(snapshot.Length, Math.Max(excess, _maxEntries / 10));
            var ages = new long[snapshot.Length];
            for (var i = 0; i < snapshot.Length; i++)
            {
                ages[i] = snapshot[i].Value.LastUsedTicks;
            }

            Array.Sort(ages, snapshot);
            for (var i = 0; i < victims; i++)
            {
                Remove(snapshot[i].Key, snapshot[i].Value);
            }
        }
        finally
        {
            _evictLock.Exit();
        }
    }

    private sealed class Entry(Session session, long validUntilTicks, long epoch)
    {
        public Session Session { get; } = session;

        public long ValidUntilTicks { get; } = validUntilTicks;

        public long Epoch { get; } = epoch;

        // Approximate LRU: racy writes of the reader's clock are fine, eviction only needs an order.
        public long LastUsedTicks { get; set; }
    }

    private sealed class Flight(long epoch)
    {
        public readonly TaskCompletionSource<Session?> Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly long Epoch = epoch;
        public long MinVersion;
    }
}
