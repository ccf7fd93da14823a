namespace SessionKit;

/// <summary>The result of <see cref="ISessionManager.TryCreateAsync"/>.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Session">The new session when <paramref name="Status"/> is <see cref="SessionCreateStatus.Created"/>.</param>
public readonly record struct SessionCreateResult(SessionCreateStatus Status, Session? Session)
{
    /// <summary>Gets a value indicating whether the session was created.</summary>
    public bool IsCreated => Status == SessionCreateStatus.Created;
}
