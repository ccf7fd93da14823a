using System.Globalization;
using System.Text;
using StackExchange.Redis;

namespace SessionKit.Redis.Internal;

/// <summary>
/// Remembers the last snapshot decoded for an id together with the exact hash it came from, so a read that returns
/// the same bytes reuses the (immutable) snapshot instead of parsing it again. It never serves anything Redis did not
/// just return: every get still reads the hash, and the memo is consulted only with that fresh reply.
/// </summary>
/// <remarks>
/// Two-way set-associative (an id may live in either slot of its set; a new id replaces the older of the two),
/// lock-free, and bounded: <see cref="Sets"/> × 2 entries, each for a hash of at most <see cref="MaxEntryBytes"/>.
/// </remarks>
internal sealed class SnapshotMemo
{
    public const int Sets = 1024;
    public const int MaxEntryBytes = 4 * 1024;

    private readonly Entry?[] _slots = new Entry?[Sets * 2];
    private long _sequence;

    public Session? Find(string id, HashEntry[] hash)
    {
        var first = SlotOf(id);
        var entry = Match(Volatile.Read(ref _slots[first]), id) ?? Match(Volatile.Read(ref _slots[first + 1]), id);
        return entry is not null && SameBytes(entry.Hash, hash) ? entry.Session : null;
    }

    /// <summary>
    /// Gets the snapshot last decoded for an id and the token of the hash it came from (<c>n:ver</c>, the incarnation
    /// nonce and version), for the update script to confirm the hash is still that one; <see langword="null"/> when
    /// none is remembered or the hash had no nonce.
    /// </summary>
    public (string Token, Session Session)? Known(string id)
    {
        var first = SlotOf(id);
        var entry = Match(Volatile.Read(ref _slots[first]), id) ?? Match(Volatile.Read(ref _slots[first + 1]), id);
        return entry?.Token is { } token ? (token, entry.Session) : null;
    }

    public void Remember(string id, HashEntry[] hash, Session session)
    {
        long size = 0;
        byte[]? nonce = null;
        foreach (var item in hash)
        {
            var name = (byte[]?)item.Name;
            size += (name?.Length ?? 0) + (((byte[]?)item.Value)?.Length ?? 0);
            if (name is [(byte)'n'])
            {
                nonce = item.Value;
            }
        }

        if (size > MaxEntryBytes)
        {
            return;
        }

        var slot = SlotFor(id);
        var token = nonce is null ? null : string.Concat(Encoding.UTF8.GetString(nonce), ":", session.Version.ToString(CultureInfo.InvariantCulture));
        Volatile.Write(ref _slots[slot], new Entry(id, hash, session, token, Interlocked.Increment(ref _sequence)));
    }

    /// <summary>
    /// Remembers the snapshot an update of this store wrote, with its token, so the next update of the id can send that
    /// token; it never matches a read (it has no hash bytes), so the next get decodes afresh.
    /// </summary>
    public void RememberWritten(string id, Session session, string token)
    {
        Volatile.Write(ref _slots[SlotFor(id)], new Entry(id, [], session, token, Interlocked.Increment(ref _sequence)));
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

    /// <summary>The slot a new entry for <paramref name="id"/> goes to: the one already holding the id, else an empty one, else the older.</summary>
    private int SlotFor(string id)
    {
        var first = SlotOf(id);
        var a = Volatile.Read(ref _slots[first]);
        var b = Volatile.Read(ref _slots[first + 1]);
        return Match(b, id) is not null || (Match(a, id) is null && a is not null && (b is null || b.Sequence < a.Sequence)) ? first + 1 : first;
    }

    private static int SlotOf(string id) => (StringComparer.Ordinal.GetHashCode(id) & (Sets - 1)) * 2;

    private static Entry? Match(Entry? entry, string id) => entry is not null && string.Equals(entry.Id, id, StringComparison.Ordinal) ? entry : null;

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

    private sealed record Entry(string Id, HashEntry[] Hash, Session Session, string? Token, long Sequence);
}
