namespace SessionKit;

/// <summary>A change would make a session's state larger than the configured limit; nothing was written.</summary>
public sealed class SessionStateTooLargeException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="SessionStateTooLargeException"/> class.</summary>
    public SessionStateTooLargeException()
        : base("The session state exceeds the configured limit.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SessionStateTooLargeException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public SessionStateTooLargeException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SessionStateTooLargeException"/> class with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public SessionStateTooLargeException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SessionStateTooLargeException"/> class for a size and a limit.</summary>
    /// <param name="size">The state size the change would produce, in bytes.</param>
    /// <param name="limit">The limit, in bytes (<see cref="SessionKitOptions.MaxStateBytes"/>).</param>
    public SessionStateTooLargeException(long size, long limit)
        : base($"Session state would be {size} bytes, over the limit of {limit} bytes (SessionKitOptions.MaxStateBytes). Nothing was written.")
    {
        Size = size;
        Limit = limit;
    }

    /// <summary>Gets the state size the change would have produced, in bytes.</summary>
    public long Size { get; }

    /// <summary>Gets the limit, in bytes.</summary>
    public long Limit { get; }
}
