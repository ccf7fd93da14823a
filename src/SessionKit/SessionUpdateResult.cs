namespace SessionKit;

/// <summary>The result of an update: what happened, and the new snapshot when it was applied.</summary>
public readonly record struct SessionUpdateResult
{
    private SessionUpdateResult(SessionUpdateStatus status, Session? session, long? currentVersion)
    {
        Status = status;
        Session = session;
        CurrentVersion = currentVersion;
    }

    /// <summary>Gets what happened.</summary>
    public SessionUpdateStatus Status { get; }

    /// <summary>Gets the new snapshot when <see cref="Status"/> is <see cref="SessionUpdateStatus.Updated"/>.</summary>
    public Session? Session { get; }

    /// <summary>Gets the session's current version on a <see cref="SessionUpdateStatus.Conflict"/>, when the store reports it.</summary>
    public long? CurrentVersion { get; }

    /// <summary>Gets a value indicating whether the change set was applied.</summary>
    public bool IsUpdated => Status == SessionUpdateStatus.Updated;

    /// <summary>Creates an <see cref="SessionUpdateStatus.Updated"/> result.</summary>
    /// <param name="session">The new snapshot.</param>
    /// <returns>The result.</returns>
    public static SessionUpdateResult Updated(Session session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return new(SessionUpdateStatus.Updated, session, null);
    }

    /// <summary>Gets the <see cref="SessionUpdateStatus.NotFound"/> result.</summary>
    public static SessionUpdateResult NotFound { get; } = new(SessionUpdateStatus.NotFound, null, null);

    /// <summary>Gets the <see cref="SessionUpdateStatus.Rejected"/> result.</summary>
    public static SessionUpdateResult Rejected { get; } = new(SessionUpdateStatus.Rejected, null, null);

    /// <summary>Creates a <see cref="SessionUpdateStatus.Conflict"/> result.</summary>
    /// <param name="currentVersion">The session's current version, when known.</param>
    /// <returns>The result.</returns>
    public static SessionUpdateResult Conflict(long? currentVersion) => new(SessionUpdateStatus.Conflict, null, currentVersion);

    /// <summary>Creates the store-level result for an update that reached a rotation forwarder (see <see cref="ISessionStore.UpdateAsync"/>).</summary>
    /// <param name="forwarder">The forwarder's snapshot.</param>
    /// <returns>The result.</returns>
    public static SessionUpdateResult Forwarded(Session forwarder)
    {
        ArgumentNullException.ThrowIfNull(forwarder);
        return new(SessionUpdateStatus.Forwarded, forwarder, forwarder.Version);
    }
}
