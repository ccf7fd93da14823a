namespace SessionKit;

/// <summary>A session store's backend failed (unreachable, timed out, or returned something unusable).</summary>
public sealed class SessionStoreException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="SessionStoreException"/> class.</summary>
    public SessionStoreException()
        : this("A session store operation failed.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SessionStoreException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public SessionStoreException(string message)
        : base(message)
    {
        StoreName = string.Empty;
        Operation = string.Empty;
    }

    /// <summary>Initializes a new instance of the <see cref="SessionStoreException"/> class with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public SessionStoreException(string message, Exception? innerException)
        : base(message, innerException)
    {
        StoreName = string.Empty;
        Operation = string.Empty;
    }

    /// <summary>Initializes a new instance of the <see cref="SessionStoreException"/> class for a failed store operation.</summary>
    /// <param name="storeName">The store's <see cref="ISessionStore.Name"/>.</param>
    /// <param name="operation">The operation that failed (for example <c>get</c>).</param>
    /// <param name="message">What went wrong; never contains a session id.</param>
    /// <param name="innerException">The cause.</param>
    public SessionStoreException(string storeName, string operation, string message, Exception? innerException = null)
        : base($"Session store '{storeName}' failed during '{operation}': {message}", innerException)
    {
        StoreName = storeName;
        Operation = operation;
    }

    /// <summary>Gets the name of the store that failed.</summary>
    public string StoreName { get; }

    /// <summary>Gets the operation that failed.</summary>
    public string Operation { get; }
}
