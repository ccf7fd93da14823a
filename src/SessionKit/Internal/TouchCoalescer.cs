namespace SessionKit.Internal;

/// <summary>
/// Makes concurrent reads of one session on this node slide it once per touch window: the first caller that finds a
/// slide due claims it, and callers that find it due while that claim is younger than the window skip the write (the
/// store already holds a last access at most one window older than theirs).
/// </summary>
/// <remarks>Direct-mapped, lock-free and bounded (4,096 claims); a collision between two ids only costs an extra touch.</remarks>
internal sealed class TouchCoalescer
{
    private const int Slots = 4096;

    private readonly Claim?[] _slots = new Claim?[Slots];

    /// <summary>Claims the slide of <paramref name="id"/> at <paramref name="now"/>, unless this node claimed one less than <paramref name="window"/> ago.</summary>
    /// <param name="id">The session id.</param>
    /// <param name="now">The reader's time.</param>
    /// <param name="window">The touch window.</param>
    /// <param name="claimedAt">When the caller should not write: the time the claiming read slides the session to.</param>
    /// <returns><see langword="true"/> when the caller should write the slide.</returns>
    public bool TryClaim(string id, DateTimeOffset now, TimeSpan window, out DateTimeOffset claimedAt)
    {
        claimedAt = now;
        ref var slot = ref _slots[SlotOf(id)];
        var current = Volatile.Read(ref slot);
        if (Covers(current, id, now, window))
        {
            claimedAt = new DateTimeOffset(current!.Ticks, TimeSpan.Zero);
            return false;
        }

        if (Interlocked.CompareExchange(ref slot, new Claim(id, now.UtcTicks), current) == current)
        {
            return true;
        }

        // Another caller claimed the slot meanwhile: skip only if it claimed this id within the window.
        var winner = Volatile.Read(ref slot);
        if (Covers(winner, id, now, window))
        {
            claimedAt = new DateTimeOffset(winner!.Ticks, TimeSpan.Zero);
            return false;
        }

        return true;
    }

    private static bool Covers(Claim? claim, string id, DateTimeOffset now, TimeSpan window) =>
        claim is not null && string.Equals(claim.Id, id, StringComparison.Ordinal) && now.UtcTicks >= claim.Ticks && now.UtcTicks - claim.Ticks < window.Ticks;

    /// <summary>Drops this node's claim on <paramref name="id"/> (its slide failed), so the next read slides again.</summary>
    public void Release(string id)
    {
        ref var slot = ref _slots[SlotOf(id)];
        var current = Volatile.Read(ref slot);
        if (current is not null && string.Equals(current.Id, id, StringComparison.Ordinal))
        {
            Interlocked.CompareExchange(ref slot, null, current);
        }
    }

    private static int SlotOf(string id) => StringComparer.Ordinal.GetHashCode(id) & (Slots - 1);

    private sealed record Claim(string Id, long Ticks);
}
