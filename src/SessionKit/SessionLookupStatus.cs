namespace SessionKit;

/// <summary>The outcome of looking a session up.</summary>
public enum SessionLookupStatus
{
    /// <summary>No live session has the id (malformed, never created, deleted or expired). An HTTP host answers 404.</summary>
    NotFound,

    /// <summary>The session was found and the caller may use it.</summary>
    Found,

    /// <summary>The session exists but a hijack-prevention guard rejected the caller. An HTTP host answers 403.</summary>
    Rejected,
}
