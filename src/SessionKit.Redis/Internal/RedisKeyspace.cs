using System.Text;
using StackExchange.Redis;

namespace SessionKit.Redis.Internal;

/// <summary>
/// Builds the store's keys. Keys are raw bytes (prefix + tag + UTF-8 of the id), so ids and user ids may hold any
/// character, Redis glob and hash-tag characters included.
/// </summary>
internal sealed class RedisKeyspace
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _sessionPrefix;
    private readonly byte[] _userPrefix;

    public RedisKeyspace(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        _sessionPrefix = StrictUtf8.GetBytes(prefix + "s:");
        _userPrefix = StrictUtf8.GetBytes(prefix + "u:");
        ExpiryIndex = StrictUtf8.GetBytes(prefix + "expiry");
        ScanPattern = GlobEscape(_sessionPrefix);
    }

    /// <summary>Gets the sorted set of every session id scored by (a lower bound of) its expiry, in Unix ms.</summary>
    public RedisKey ExpiryIndex { get; }

    /// <summary>Gets the <c>SCAN MATCH</c> pattern of session keys: the escaped prefix followed by <c>*</c>.</summary>
    public byte[] ScanPattern { get; }

    /// <summary>Builds a session key; <see langword="false"/> when the id is not well-formed UTF-16 (it then names no session).</summary>
    public bool TrySessionKey(string id, out RedisKey key) => TryBuild(_sessionPrefix, id, out key);

    /// <summary>Builds a user index key; <see langword="false"/> when the user id is not well-formed UTF-16.</summary>
    public bool TryUserKey(string userId, out RedisKey key) => TryBuild(_userPrefix, userId, out key);

    /// <summary>Gets the user index key of a user id read back from Redis (always well-formed).</summary>
    public RedisKey UserKey(string userId) => TryUserKey(userId, out var key) ? key : throw new ArgumentException("The user id is not well-formed UTF-16.", nameof(userId));

    /// <summary>Extracts the session id from a key returned by <c>SCAN</c>.</summary>
    public bool TryGetId(byte[] sessionKey, out string id)
    {
        id = string.Empty;
        if (sessionKey.Length <= _sessionPrefix.Length || !sessionKey.AsSpan().StartsWith(_sessionPrefix))
        {
            return false;
        }

        try
        {
            id = StrictUtf8.GetString(sessionKey, _sessionPrefix.Length, sessionKey.Length - _sessionPrefix.Length);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>Determines whether a string survives a UTF-8 round trip (no lone surrogates).</summary>
    public static bool IsWellFormed(string value)
    {
        try
        {
            _ = StrictUtf8.GetByteCount(value);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    private static bool TryBuild(byte[] prefix, string value, out RedisKey key)
    {
        key = default;
        int count;
        try
        {
            count = StrictUtf8.GetByteCount(value);
        }
        catch (EncoderFallbackException)
        {
            return false;
        }

        var bytes = new byte[prefix.Length + count];
        prefix.CopyTo(bytes, 0);
        StrictUtf8.GetBytes(value, 0, value.Length, bytes, prefix.Length);
        key = bytes;
        return true;
    }

    private static byte[] GlobEscape(byte[] literal)
    {
        var pattern = new List<byte>(literal.Length * 2 + 1);
        foreach (var b in literal)
        {
            if (b is (byte)'*' or (byte)'?' or (byte)'[' or (byte)']' or (byte)'\\')
            {
                pattern.Add((byte)'\\');
            }

            pattern.Add(b);
        }

        pattern.Add((byte)'*');
        return [.. pattern];
    }
}
