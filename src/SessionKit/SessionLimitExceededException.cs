namespace SessionKit;

/// <summary>A user already holds the most sessions allowed and the policy is <see cref="MaxSessionsPolicy.RejectNew"/>.</summary>
public sealed class SessionLimitExceededException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="SessionLimitExceededException"/> class.</summary>
    public SessionLimitExceededException()
        : base("The user already holds the maximum number of sessions (SessionKitOptions.MaxSessionsPerUser).")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SessionLimitExceededException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public SessionLimitExceededException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SessionLimitExceededException"/> class with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public SessionLimitExceededException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
