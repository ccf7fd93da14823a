namespace SessionKit;

/// <summary>The outcome of <see cref="ISessionManager.TryCreateAsync"/>.</summary>
public enum SessionCreateStatus
{
    /// <summary>The session was created.</summary>
    Created,

    /// <summary>The user already holds <see cref="SessionKitOptions.MaxSessionsPerUser"/> sessions and the policy is <see cref="MaxSessionsPolicy.RejectNew"/>.</summary>
    LimitReached,
}
