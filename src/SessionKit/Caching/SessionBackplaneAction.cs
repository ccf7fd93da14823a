namespace SessionKit.Caching;

/// <summary>What a <see cref="SessionBackplaneMessage"/> reports.</summary>
public enum SessionBackplaneAction
{
    /// <summary>The session's data changed; <see cref="SessionBackplaneMessage.Version"/> is the new version.</summary>
    Updated,

    /// <summary>The session was deleted (log out, eviction, termination). Terminal.</summary>
    Deleted,

    /// <summary>The session moved to a new id; the message names the old id. Terminal for the old id.</summary>
    Rotated,

    /// <summary>The session expired and was swept. Terminal.</summary>
    Expired,

    /// <summary>An application notification for the broadcaster (<see cref="SessionBackplaneMessage.Payload"/>), not an invalidation.</summary>
    Notification,
}
