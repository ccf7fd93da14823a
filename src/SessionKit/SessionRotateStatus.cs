namespace SessionKit;

/// <summary>What <see cref="ISessionManager.RotateAsync"/> did.</summary>
public enum SessionRotateStatus
{
    /// <summary>The session now lives under a new id; <see cref="SessionRotateResult.Session"/> carries it.</summary>
    Rotated,

    /// <summary>No live session has the id (unknown, expired, deleted, or an id already rotated away past its grace window).</summary>
    NotFound,

    /// <summary>A hijack-prevention guard rejected the caller; nothing changed.</summary>
    Rejected,

    /// <summary>
    /// The session stayed live but could not be rotated before <see cref="SessionKitOptions.RotationTimeout"/> (for
    /// example, a rotation in progress elsewhere did not complete); nothing changed. The caller may retry.
    /// </summary>
    Busy,

    /// <summary>
    /// The rotation moved the session to a user who already holds <see cref="SessionKitOptions.MaxSessionsPerUser"/>
    /// sessions under <see cref="MaxSessionsPolicy.RejectNew"/>; nothing changed.
    /// </summary>
    LimitReached,
}
