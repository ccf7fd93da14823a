namespace SessionKit.Caching;

/// <summary>A backplane could not publish a message.</summary>
public sealed class SessionBackplaneException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="SessionBackplaneException"/> class.</summary>
    public SessionBackplaneException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SessionBackplaneException"/> class.</summary>
    /// <param name="message">What failed.</param>
    public SessionBackplaneException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SessionBackplaneException"/> class.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The transport's exception.</param>
    public SessionBackplaneException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
