namespace SessionKit;

/// <summary>The result of a lookup: found (with the snapshot), not found, or rejected by a guard.</summary>
public readonly record struct SessionLookupResult
{
    private SessionLookupResult(SessionLookupStatus status, Session? session)
    {
        Status = status;
        Session = session;
    }

    /// <summary>Gets what happened.</summary>
    public SessionLookupStatus Status { get; }

    /// <summary>Gets the snapshot when <see cref="Status"/> is <see cref="SessionLookupStatus.Found"/>.</summary>
    public Session? Session { get; }

    /// <summary>Gets a value indicating whether the session was found and may be used.</summary>
    public bool IsFound => Status == SessionLookupStatus.Found;

    /// <summary>Gets the not-found result.</summary>
    public static SessionLookupResult NotFound { get; } = new(SessionLookupStatus.NotFound, null);

    /// <summary>Gets the rejected result.</summary>
    public static SessionLookupResult Rejected { get; } = new(SessionLookupStatus.Rejected, null);

    /// <summary>Creates a found result.</summary>
    /// <param name="session">The snapshot.</param>
    /// <returns>The result.</returns>
    public static SessionLookupResult Found(Session session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return new(SessionLookupStatus.Found, session);
    }
}
