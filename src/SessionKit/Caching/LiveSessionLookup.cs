namespace SessionKit.Caching;

/// <summary>The result of <see cref="ILiveSessionCache{T}.GetAsync"/>: found (with the live session), not found, or rejected by a guard.</summary>
/// <typeparam name="T">The live object's type.</typeparam>
/// <remarks>Built by the live-session cache only (static members on a generic type would be awkward to call).</remarks>
public readonly record struct LiveSessionLookup<T>
    where T : class
{
    private LiveSessionLookup(SessionLookupStatus status, LiveSession<T>? live)
    {
        Status = status;
        Live = live;
    }

    /// <summary>Gets what happened.</summary>
    public SessionLookupStatus Status { get; }

    /// <summary>Gets the session and its live object when <see cref="Status"/> is <see cref="SessionLookupStatus.Found"/>.</summary>
    public LiveSession<T>? Live { get; }

    /// <summary>Gets a value indicating whether the session was found.</summary>
    public bool IsFound => Status == SessionLookupStatus.Found;

    /// <summary>Gets the result for an unknown, expired or deleted session.</summary>
    internal static LiveSessionLookup<T> NotFound { get; } = new(SessionLookupStatus.NotFound, null);

    /// <summary>Gets the result for an access a guard rejected.</summary>
    internal static LiveSessionLookup<T> Rejected { get; } = new(SessionLookupStatus.Rejected, null);

    /// <summary>Creates the result for a found session.</summary>
    /// <param name="live">The session and its live object.</param>
    /// <returns>The result.</returns>
    internal static LiveSessionLookup<T> Found(LiveSession<T> live)
    {
        ArgumentNullException.ThrowIfNull(live);
        return new(SessionLookupStatus.Found, live);
    }
}
