namespace SessionKit;

/// <summary>The kinds of session lifecycle events.</summary>
public enum SessionEventKind
{
    /// <summary>A session was created.</summary>
    Created,

    /// <summary>A session was deleted by the application (log out, log out everywhere, eviction, termination on rejection).</summary>
    Deleted,

    /// <summary>An expired session was removed by cleanup.</summary>
    Expired,

    /// <summary>A session got a new id (<see cref="SessionEvent.PreviousSessionId"/> is the old one).</summary>
    Rotated,

    /// <summary>A guard rejected an access to the session.</summary>
    Rejected,
}
