namespace SessionKit;

/// <summary>The result of <see cref="ISessionManager.RotateAsync"/>.</summary>
/// <param name="Status">What happened: <see cref="SessionLookupStatus.Found"/> means rotated.</param>
/// <param name="Session">The session under its new id, when rotated.</param>
public readonly record struct SessionRotateResult(SessionLookupStatus Status, Session? Session)
{
    /// <summary>Gets a value indicating whether the session was rotated.</summary>
    public bool IsRotated => Status == SessionLookupStatus.Found && Session is not null;
}
