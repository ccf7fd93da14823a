namespace SessionKit;

/// <summary>Options for <see cref="ISessionManager.RotateAsync"/>.</summary>
public sealed class SessionRotateOptions
{
    /// <summary>
    /// Gets or sets what the caller presents after a privilege change (login, a new credential or identity). When set,
    /// every guard re-binds the new session to it; when <see langword="null"/>, the new session keeps the old binding.
    /// </summary>
    public SessionAccessContext? Rebind { get; set; }

    /// <summary>Gets or sets a value indicating whether <see cref="UserId"/> replaces the session's owner.</summary>
    public bool ChangeUserId { get; set; }

    /// <summary>Gets or sets the new owner when <see cref="ChangeUserId"/> is <see langword="true"/> (for example after login).</summary>
    public string? UserId { get; set; }
}
