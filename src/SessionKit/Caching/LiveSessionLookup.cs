namespace SessionKit.Caching;

/// <summary>The result of <see cref="ILiveSessionCache{T}.GetAsync"/>: found (with the live session), not found, or rejected by a guard.</summary>
/// <typeparam name="T">The live object's type.</typeparam>
/// <param name="Status">What happened.</param>
/// <param name="Live">The session and its live object when <see cref="Status"/> is <see cref="SessionLookupStatus.Found"/>.</param>
public readonly record struct LiveSessionLookup<T>(SessionLookupStatus Status, LiveSession<T>? Live)
    where T : class
{
    /// <summary>Gets a value indicating whether the session was found.</summary>
    public bool IsFound => Status == SessionLookupStatus.Found;
}
