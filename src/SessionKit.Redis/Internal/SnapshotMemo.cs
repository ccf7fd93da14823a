using StackExchange.Redis;

namespace SessionKit.Redis.Internal;

/// <summary>
/// Remembers the last snapshot decoded for an id together with the exact hash it came from, so a read that returns
/// the same bytes reuses the (immutable) snapshot instead of parsing it again. It never serves anything Redis did not
/// just return: every get still reads the hash, and the memo is consulted only with that fresh reply.
/// </summary>
/// <remarks>
/// Direct-mapped (one slot per id hash, a collision replaces the slot), lock-free, and bounded: a fixed number of
/// slots, each holding only hashes up to <see cref="MaxEntryBytes"/>.
/// </remarks>
internal sealed class SnapshotMemo
{
    public const int Slots = 1024;
    public const int MaxEntryBytes = 8 * 1024;

    private readonly Entry?[] _slots = new Entry?[Slots];

    public Session? Find(string id, HashEntry[] hash)
    {
        var entry = Volatile.Read(ref _slots[Index(id)]);
        return entry is not null && string.Equals(entry.Id, id, StringComparison.Ordinal) && SameBytes(entry.Hash, hash) ? entry.Session : null;
    }

    public void Remember(string id, HashEntry[] hash, Session session)
    {
        long size = 0;
        foreach (var item in hash)
        {
            size += ((byte[]?)item.Name)?.Length ?? 0;
            size += ((byte[]?)item.Value)?.Length ?? 0;
        }

        if (size <= MaxEntryBytes)
        {
            Volatile.Write(ref _slots[Index(id)], new Entry(id, hash, session));
        }
    }

    public void Forget(string id)
    {
        ref var slot = ref _slots[Index(id)];
        var entry = Volatile.Read(ref slot);
        if (entry is not null && string.Equals(entry.Id, id, StringComparison.Ordinal))
        {
            Interlocked.CompareExchange(ref slot, null, entry);
        }
    }

    private static int Index(string id) => StringComparer.Ordinal.GetHashCode(id) & (Slots - 1);

    private static bool SameBytes(HashEntry[] remembered, HashEntry[] current)
    {
        if (remembered.Length != current.Length)
        {
            return false;
        }

        for (var i = 0; i < current.Length; i++)
        {
            if (!((byte[]?)remembered[i].Value).AsSpan().SequenceEqual((byte[]?)current[i].Value)
                || !((byte[]?)remembered[i].Name).AsSpan().SequenceEqual((byte[]?)current[i].Name))
            {
                return false;
            }
        }

        return true;
    }

    private sealed record Entry(string Id, HashEntry[] Hash, Session Session);
}
