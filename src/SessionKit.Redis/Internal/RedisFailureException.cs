namespace SessionKit.Redis.Internal;

/// <summary>
/// Stands in for a client exception whose message quoted a key (keys hold session ids): same type name and text,
/// with every key cut to its prefix.
/// </summary>
internal sealed class RedisFailureException : Exception
{
    public RedisFailureException()
    {
    }

    public RedisFailureException(string message)
        : base(message)
    {
    }

    public RedisFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
