namespace SessionKit;

/// <summary>A filter and page request for listing sessions. Filters match exactly (no pattern scans).</summary>
public sealed record SessionQuery
{
    /// <summary>The largest page a store returns.</summary>
    public const int MaxLimit = 1000;

    private readonly int _limit = 100;

    /// <summary>Gets the owner to match; <see langword="null"/> matches any.</summary>
    public string? UserId { get; init; }

    /// <summary>Gets the kind to match; <see langword="null"/> matches any.</summary>
    public string? Kind { get; init; }

    /// <summary>Gets the most sessions in one page.</summary>
    /// <value>Default 100; between 1 and <see cref="MaxLimit"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 1..<see cref="MaxLimit"/>.</exception>
    public int Limit
    {
        get => _limit;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxLimit);
            _limit = value;
        }
    }

    /// <summary>Gets the opaque cursor from a previous <see cref="SessionPage.NextCursor"/>; <see langword="null"/> for the first page.</summary>
    public string? Cursor { get; init; }
}
