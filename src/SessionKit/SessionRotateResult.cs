namespace SessionKit;

/// <summary>The result of <see cref="ISessionManager.RotateAsync"/>: rotated (with the session under its new id), or why not.</summary>
public readonly record struct SessionRotateResult
{
    private SessionRotateResult(SessionRotateStatus status, Session? session)
    {
        Status = status;
        Session = session;
    }

    /// <summary>Gets what happened.</summary>
    public SessionRotateStatus Status { get; }

    /// <summary>Gets the session under its new id when <see cref="Status"/> is <see cref="SessionRotateStatus.Rotated"/>.</summary>
    public Session? Session { get; }

    /// <summary>Gets a value indicating whether the session was rotated.</summary>
    public bool IsRotated => Status == SessionRotateStatus.Rotated;

    /// <summary>Gets the result for an unknown, expired or deleted session.</summary>
    public static SessionRotateResult NotFound { get; } = new(SessionRotateStatus.NotFound, null);

    /// <summary>Gets the result for an access a guard rejected.</summary>
    public static SessionRotateResult Rejected { get; } = new(SessionRotateStatus.Rejected, null);

    /// <summary>Gets the result for a live session that could not be rotated in time.</summary>
    public static SessionRotateResult Busy { get; } = new(SessionRotateStatus.Busy, null);

    /// <summary>Gets the result for a rotation refused by the new user's session limit.</summary>
    public static SessionRotateResult LimitReached { get; } = new(SessionRotateStatus.LimitReached, null);

    /// <summary>Creates the result for a rotated session.</summary>
    /// <param name="session">The session under its new id.</param>
    /// <returns>The result.</returns>
    public static SessionRotateResult Rotated(Session session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return new(SessionRotateStatus.Rotated, session);
    }
}
