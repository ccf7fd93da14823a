namespace SessionKit;

/// <summary>Stored session data is corrupt, truncated, foreign or of a format version this release cannot read.</summary>
public sealed class SessionFormatException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="SessionFormatException"/> class.</summary>
    public SessionFormatException()
        : base("The stored session data is not a readable session.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SessionFormatException"/> class with a message.</summary>
    /// <param name="message">The message; never contains a session id.</param>
    public SessionFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SessionFormatException"/> class with a message and a cause.</summary>
    /// <param name="message">The message; never contains a session id.</param>
    /// <param name="innerException">The cause.</param>
    public SessionFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
