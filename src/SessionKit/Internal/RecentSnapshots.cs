namespace SessionKit.Internal;

/// <summary>
/// The snapshots this manager read from a remote store most recently, one per id, so that an update in the same
/// request can run the guards on the snapshot just read instead of reading it again. A snapshot here is never served
/// as a read: the update it enables is a compare-and-set on its version, so a snapshot that has gone stale only costs
/// the usual read-first path.
/// </summary>
/// <remarks>Two-way set-associative (a new id replaces the older of its set's two), lock-free and bounded: 2,048 entries.</remarks>
internal sealed class RecentSnapshots
{
    private const int Sets = 1024;

    private readonly Entry?[] _slots = new Entry?[Sets * 2];
    private long _sequence;

    public Session? Find(string id)
    {
        var first = SlotOf(id);
        return (Match(Volatile.Read(ref _slots[first]), id) ?? Match(Volatile.Read(ref _slots[first + 1]), id))?.Session;
    }

    public void Remember(Session session)
    {
        var first = SlotOf(session.Id);
        var a = Volatile.Read(ref _slots[first]);
        var b = Volatile.Read(ref _slots[first + 1]);
        var slot = Match(b, session.Id) is not null || (Match(a, session.Id) is null && a is not null && (b is null || b.Sequence < a.Sequence)) ? first + 1 : first;
        Volatile.Write(ref _slots[slot], new Entry(session.Id, session, Interlocked.Increment(ref _sequence)));
    }

    public void Forget(string id)
    {
        var first = SlotOf(id);
        for (var slot = first; slot <= first + 1; slot++)
        {
            var entry = Volatile.Read(ref _slots[slot]);
            if (Match(entry, id) is not null)
            {
                Interlocked.CompareExchange(ref _slots[slot], null, entry);
            }
        }
    }

    private static int SlotOf(string id) => (StringComparer.Ordinal.GetHashCode(id) & (Sets - 1)) * 2;

    private static Entry? Match(Entry? entry, string id) => entry is not null && string.Equals(entry.Id, id, StringComparison.Ordinal) ? entry : null;

    private sealed record Entry(string Id, Session Session, long Sequence);
}
