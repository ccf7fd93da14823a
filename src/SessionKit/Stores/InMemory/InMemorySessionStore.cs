using System.Collections.Concurrent;
using System.Text;
using SessionKit.Internal;

namespace SessionKit.Stores;

/// <summary>
/// The embedded default store: sessions live in this process only. Reads are lock-free and allocation-free on a hit;
/// every write is a compare-and-swap on an immutable entry, so concurrent changes never lose one another; the sweep
/// walks an expiry index, so its cost follows what is due, not what is alive.
/// </summary>
/// <remarks>
/// <para>Per-user listing uses an index kept exact under striped locks that only user-changing writes (create,
/// delete, a change of <see cref="Session.UserId"/>, sweep) take. Listing by kind alone, or listing everything,
/// scans the live sessions.</para>
/// <para>Sessions do not survive the process and are not shared between processes; use the file or Redis store for that.</para>
/// </remarks>
public sealed partial class InMemorySessionStore : ISessionStore
{
    private const int LockStripes = 64;

    private readonly ConcurrentDictionary<string, Entry> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _byUser = new(StringComparer.Ordinal);
    private readonly object[] _userLocks = CreateLocks();
    private readonly PriorityQueue<ExpiryRecord, long> _expiry = new();
    private readonly Lock _expiryLock = new();

    /// <inheritdoc />
    public string Name => "memory";

    /// <summary>Gets how many sessions the store holds, including expired ones not swept yet.</summary>
    public int Count => _sessions.Count;

    /// <inheritdoc />
    public ValueTask<bool> CreateAsync(Session session, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentException.ThrowIfNullOrEmpty(session.Id, nameof(session));
        WellFormedText.ThrowIfIllFormed(session, nameof(session));
        cancellationToken.ThrowIfCancellationRequested();

        var entry = new Entry(session);
        while (true)
        {
            if (_sessions.TryGetValue(session.Id, out var current))
            {
                if (current.IsLiveAt(now))
                {
                    return new(false);
                }

                if (TryReplace(current, entry))
                {
                    break;
                }
            }
            else if (TryInsert(entry))
            {
                break;
            }
        }

        ScheduleExpiry(entry);
        return new(true);
    }

    /// <inheritdoc />
    public ValueTask<Session?> GetAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        return new(_sessions.TryGetValue(id, out var entry) && entry.IsLiveAt(now) ? entry.Session : null);
    }

    /// <inheritdoc />
    public ValueTask<bool> ExistsAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        return new(_sessions.TryGetValue(id, out var entry) && entry.IsLiveAt(now));
    }

    /// <inheritdoc />
    public ValueTask<bool> TouchAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        cancellationToken.ThrowIfCancellationRequested();
        while (true)
        {
            if (!_sessions.TryGetValue(id, out var current) || !current.IsLiveAt(now))
            {
                return new(false);
            }

            if (now <= current.Session.LastAccessedAt)
            {
                return new(true);
            }

            var touched = new Entry(current.Session with { LastAccessedAt = now });
            if (_sessions.TryUpdate(id, touched, current))
            {
                return new(true);
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<SessionUpdateResult> UpdateAsync(string id, SessionChanges changes, DateTimeOffset now, long maxStateBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(changes);
        WellFormedText.ThrowIfIllFormed(changes, nameof(changes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxStateBytes);
        cancellationToken.ThrowIfCancellationRequested();
        while (true)
        {
            if (!_sessions.TryGetValue(id, out var current) || !current.IsLiveAt(now))
            {
                return new(SessionUpdateResult.NotFound);
            }

            if (current.Session.IsForwarder)
            {
                return new(SessionUpdateResult.Forwarded(current.Session));
            }

            if (changes.ExpectedVersion is { } expected && expected != current.Session.Version)
            {
                return new(SessionUpdateResult.Conflict(current.Session.Version));
            }

            var updated = changes.ApplyWithinLimit(current.Session, now, maxStateBytes);

            var entry = new Entry(updated);
            var swapped = string.Equals(current.Session.UserId, updated.UserId, StringComparison.Ordinal)
                ? _sessions.TryUpdate(id, entry, current)
                : TryReplace(current, entry);
            if (swapped)
            {
                return new(SessionUpdateResult.Updated(updated));
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<Session?> DeleteAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        cancellationToken.ThrowIfCancellationRequested();
        while (_sessions.TryGetValue(id, out var current))
        {
            if (TryRemove(current))
            {
                return new(current.IsLiveAt(now) ? current.Session : null);
            }
        }

        return new((Session?)null);
    }

    /// <inheritdoc />
    public ValueTask<SessionPage> QueryAsync(SessionQuery query, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        cancellationToken.ThrowIfCancellationRequested();
        var after = DecodeCursor(query.Cursor);

        // Keep the `Limit + 1` smallest ids after the cursor (ordinal order is stable across pages): a max-heap on id.
        var page = new PriorityQueue<Session, string>(query.Limit + 1, Comparer<string>.Create(static (a, b) => string.CompareOrdinal(b, a)));
        if (query.UserId is not null)
        {
            if (_byUser.TryGetValue(query.UserId, out var ids))
            {
                foreach (var id in ids.Keys)
                {
                    if (_sessions.TryGetValue(id, out var entry))
                    {
                        Consider(entry, query, now, after, page);
                    }
                }
            }
        }
        else
        {
            foreach (var (_, entry) in _sessions)
            {
                Consider(entry, query, now, after, page);
            }
        }

        var hasMore = page.Count > query.Limit;
        if (hasMore)
        {
            page.Dequeue();
        }

        var sessions = new Session[page.Count];
        for (var i = sessions.Length - 1; i >= 0; i--)
        {
            sessions[i] = page.Dequeue();
        }

        var next = hasMore ? EncodeCursor(sessions[^1].Id) : null;
        return new(new SessionPage(sessions, next));
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<Session>> RemoveExpiredAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        var removed = new List<Session>();
        var due = new List<ExpiryRecord>();
        var nowTicks = now.UtcTicks;
        while (removed.Count < maxCount && !cancellationToken.IsCancellationRequested)
        {
            due.Clear();
            lock (_expiryLock)
            {
                while (due.Count < maxCount - removed.Count && _expiry.TryPeek(out _, out var dueTicks) && dueTicks <= nowTicks)
                {
                    due.Add(_expiry.Dequeue());
                }
            }

            if (due.Count == 0)
            {
                break;
            }

            foreach (var record in due)
            {
                SweepOne(record, now, removed);
            }
        }

        return new(removed);
    }

    private void SweepOne(ExpiryRecord record, DateTimeOffset now, List<Session> removed)
    {
        while (_sessions.TryGetValue(record.Id, out var current) && current.Session.CreatedAt.UtcTicks == record.CreatedTicks)
        {
            if (current.IsLiveAt(now))
            {
                // Touched since the record was written: look again when its current expiry is due.
                ScheduleExpiry(current);
                return;
            }

            // Compare-and-delete: fails if a concurrent touch or update replaced the entry; then re-check.
            if (TryRemove(current))
            {
                removed.Add(current.Session);
                return;
            }
        }

        // Gone, or replaced by a new session with the same id (which scheduled its own record).
    }

    private void ScheduleExpiry(Entry entry)
    {
        lock (_expiryLock)
        {
            _expiry.Enqueue(new ExpiryRecord(entry.Session.Id, entry.Session.CreatedAt.UtcTicks), entry.ExpiresTicks);
        }
    }

    private static void Consider(Entry entry, SessionQuery query, DateTimeOffset now, string? after, PriorityQueue<Session, string> page)
    {
        var session = entry.Session;
        if (!entry.IsLiveAt(now)
            || (query.UserId is not null && !string.Equals(session.UserId, query.UserId, StringComparison.Ordinal))
            || (query.Kind is not null && !string.Equals(session.Kind, query.Kind, StringComparison.Ordinal))
            || (after is not null && string.CompareOrdinal(session.Id, after) <= 0))
        {
            return;
        }

        if (page.Count <= query.Limit)
        {
            page.Enqueue(session, session.Id);
        }
        else
        {
            page.EnqueueDequeue(session, session.Id);
        }
    }

    private static string EncodeCursor(string lastId) => "m1." + Convert.ToBase64String(Encoding.UTF8.GetBytes(lastId));

    private static string? DecodeCursor(string? cursor)
    {
        if (cursor is null)
        {
            return null;
        }

        try
        {
            if (cursor.StartsWith("m1.", StringComparison.Ordinal))
            {
                return Encoding.UTF8.GetString(Convert.FromBase64String(cursor[3..]));
            }
        }
        catch (FormatException)
        {
        }

        throw new ArgumentException("The cursor was not produced by this store.", nameof(cursor));
    }

    private static object[] CreateLocks()
    {
        var locks = new object[LockStripes];
        for (var i = 0; i < locks.Length; i++)
        {
            locks[i] = new object();
        }

        return locks;
    }

    /// <summary>An immutable slot value; reference identity makes every swap a compare-and-swap on one snapshot.</summary>
    private sealed class Entry(Session session)
    {
        public Session Session { get; } = session;

        public long ExpiresTicks { get; } = session.ExpiresAt.UtcTicks;

        public bool IsLiveAt(DateTimeOffset now) => now.UtcTicks < ExpiresTicks;
    }

    private readonly record struct ExpiryRecord(string Id, long CreatedTicks);
}
