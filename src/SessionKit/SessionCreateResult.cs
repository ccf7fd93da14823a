namespace SessionKit;

/// <summary>The result of <see cref="ISessionManager.TryCreateAsync"/>: created (with the session) or refused by the per-user limit.</summary>
public readonly record struct SessionCreateResult
{
    private SessionCreateResult(SessionCreateStatus status, Session? session)
    {
        Status = status;
        Session = session;
    }

    /// <summary>Gets what happened.</summary>
    public SessionCreateStatus Status { get; }

    /// <summary>Gets the new session when <see cref="Status"/> is <see cref="SessionCreateStatus.Created"/>.</summary>
    public Session? Session { get; }

    /// <summary>Gets a value indicating whether the session was created.</summary>
    public bool IsCreated => Status == SessionCreateStatus.Created;

    /// <summary>Gets the result for a creation refused because the user holds <see cref="SessionKitOptions.MaxSessionsPerUser"/> sessions.</summary>
    public static SessionCreateResult LimitReached { get; } = new(SessionCreateStatus.LimitReached, null);

    /// <summary>Creates the result for a created session.</summary>
    /// <param name="session">The new session.</param>
    /// <returns>The result.</returns>
    public static SessionCreateResult Created(Session session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return new(SessionCreateStatus.Created, session);
    }
}
