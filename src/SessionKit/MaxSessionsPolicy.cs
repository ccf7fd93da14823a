namespace SessionKit;

/// <summary>What the manager does when a user would have more than <see cref="SessionKitOptions.MaxSessionsPerUser"/> live sessions.</summary>
public enum MaxSessionsPolicy
{
    /// <summary>Delete the user's oldest sessions to make room for the new one.</summary>
    EvictOldest,

    /// <summary>Refuse to create the new session.</summary>
    RejectNew,
}
