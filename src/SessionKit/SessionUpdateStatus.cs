namespace SessionKit;

/// <summary>The outcome of an update.</summary>
public enum SessionUpdateStatus
{
    /// <summary>The change set was applied.</summary>
    Updated,

    /// <summary>No live session has the id (never created, deleted, or expired); nothing was written.</summary>
    NotFound,

    /// <summary>The session's version did not match <see cref="SessionChanges.ExpectedVersion"/>; nothing was written.</summary>
    Conflict,

    /// <summary>A hijack-prevention guard rejected the caller; nothing was written.</summary>
    Rejected,

    /// <summary>
    /// Store level only: the record is a rotation forwarder, which is never changed; nothing was written.
    /// <see cref="SessionUpdateResult.Session"/> is the forwarder. The manager follows it and never returns this status.
    /// </summary>
    Forwarded,
}
