namespace SessionKit;

/// <summary>
/// Describes one access to a session: whether it should keep the session alive, and what the caller presented
/// (for hijack-prevention guards).
/// </summary>
public sealed class SessionAccessContext
{
    /// <summary>Gets a shared context for an ordinary access that slides the session.</summary>
    public static SessionAccessContext Default { get; } = new();

    /// <summary>Gets a shared context for an access that must not keep the session alive (background polls, health pings).</summary>
    public static SessionAccessContext NoSlide { get; } = new() { Slide = false };

    /// <summary>Gets a value indicating whether the access slides the session's idle expiry.</summary>
    /// <value>Default <see langword="true"/>.</value>
    public bool Slide { get; init; } = true;
}
