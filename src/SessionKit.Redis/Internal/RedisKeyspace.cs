using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace SessionKit.Redis.Internal;

/// <summary>
/// Builds the store's keys. Keys are raw bytes (prefix + tag + UTF-8 of the id), so ids and user ids may hold any
/// character, Redis glob and hash-tag characters included.
/// </summary>
/// <remarks>
/// A session lives in one of <see cref="BucketCount"/> buckets, chosen by the first 10 bits of the SHA-256 of its id.
/// The bucket is the key's Redis Cluster hash tag: <c>{prefix}{BBB}:s:{id}</c> (BBB = three lower-case hex digits) is
/// the session hash and <c>{prefix}{BBB}:x</c> the bucket's expiry set, so a script can write both in one slot, and
/// a hash tag inside the id (which comes after the store's own) cannot move a session to another slot.
/// <c>{prefix}u:{userId}</c> is a user's index; it has no tag of the store's, so it is always written on its own.
/// </remarks>
internal sealed class RedisKeyspace
{
    /// <summary>The number of buckets (hash tags) sessions are spread over: 1024, so a cluster of up to a few hundred masters stays balanced.</summary>
    public const int BucketCount = 1024;

    private const int BucketTagLength = 5; // "{" + 3 hex digits + "}"

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _prefix;
    private readonly byte[] _userPrefix;
    private readonly RedisKey[] _expiryKeys;

    public RedisKeyspace(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        _prefix = StrictUtf8.GetBytes(prefix);
        _userPrefix = StrictUtf8.GetBytes(prefix + "u:");
        _expiryKeys = new RedisKey[BucketCount];
        for (var bucket = 0; bucket < BucketCount; bucket++)
        {
            _expiryKeys[bucket] = StrictUtf8.GetBytes(prefix + Tag(bucket) + ":x");
        }

        var pattern = new List<byte>(GlobEscape(_prefix));
        pattern.AddRange("{???}:s:*"u8.ToArray());
        ScanPattern = [.. pattern];
    }

    /// <summary>Gets the <c>SCAN MATCH</c> pattern of session keys: the escaped prefix, any bucket tag, <c>:s:</c> and <c>*</c>.</summary>
    public byte[] ScanPattern { get; }

    /// <summary>Gets the hash tag of a bucket, <c>{BBB}</c>.</summary>
    private static string Tag(int bucket) => "{" + bucket.ToString("x3", System.Globalization.CultureInfo.InvariantCulture) + "}";

    /// <summary>Builds a session key; <see langword="false"/> when the id is not well-formed UTF-16 (it then names no session).</summary>
    public bool TrySessionKey(string id, out RedisKey key) => TrySessionKey(id, out key, out _);

    /// <summary>Builds a session key and tells its bucket; <see langword="false"/> when the id is not well-formed UTF-16.</summary>
    public bool TrySessionKey(string id, out RedisKey key, out int bucket)
    {
        key = default;
        bucket = 0;
        int count;
        try
        {
            count = StrictUtf8.GetByteCount(id);
        }
        catch (EncoderFallbackException)
        {
            return false;
        }

        var head = _prefix.Length + BucketTagLength + 3;
        var bytes = new byte[head + count];
        StrictUtf8.GetBytes(id, 0, id.Length, bytes, head);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(bytes.AsSpan(head), digest);
        bucket = ((digest[0] << 8) | digest[1]) >> 6;
        _prefix.CopyTo(bytes, 0);
        var at = _prefix.Length;
        bytes[at++] = (byte)'{';
        bytes[at++] = Hex(bucket >> 8);
        bytes[at++] = Hex((bucket >> 4) & 0xF);
        bytes[at++] = Hex(bucket & 0xF);
        bytes[at++] = (byte)'}';
        bytes[at++] = (byte)':';
        bytes[at++] = (byte)'s';
        bytes[at] = (byte)':';
        key = bytes;
        return true;
    }

    /// <summary>Gets the expiry set of a bucket: session ids scored by (a lower bound of) their expiry, in Unix ms.</summary>
    public RedisKey ExpiryKey(int bucket) => _expiryKeys[bucket];

    /// <summary>Builds a user index key; <see langword="false"/> when the user id is not well-formed UTF-16.</summary>
    public bool TryUserKey(string userId, out RedisKey key)
    {
        key = default;
        int count;
        try
        {
            count = StrictUtf8.GetByteCount(userId);
        }
        catch (EncoderFallbackException)
        {
            return false;
        }

        var bytes = new byte[_userPrefix.Length + count];
        _userPrefix.CopyTo(bytes, 0);
        StrictUtf8.GetBytes(userId, 0, userId.Length, bytes, _userPrefix.Length);
        key = bytes;
        return true;
    }

    /// <summary>Gets the user index key of a user id read back from Redis (always well-formed).</summary>
    public RedisKey UserKey(string userId) => TryUserKey(userId, out var key) ? key : throw new ArgumentException("The user id is not well-formed UTF-16.", nameof(userId));

    /// <summary>Extracts the session id from a key returned by <c>SCAN</c>; <see langword="false"/> for a key of another layout.</summary>
    public bool TryGetId(byte[] sessionKey, out string id)
    {
        id = string.Empty;
        var head = _prefix.Length + BucketTagLength + 3;
        if (sessionKey.Length <= head
            || !sessionKey.AsSpan().StartsWith(_prefix)
            || sessionKey[_prefix.Length] != (byte)'{'
            || sessionKey[_prefix.Length + 4] != (byte)'}'
            || !sessionKey.AsSpan(_prefix.Length + BucketTagLength, 3).SequenceEqual(":s:"u8))
        {
            return false;
        }

        try
        {
            id = StrictUtf8.GetString(sessionKey, head, sessionKey.Length - head);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        // A key in the wrong bucket for its id was not written by this store.
        return TrySessionKey(id, out var expected) && ((byte[])expected!).AsSpan().SequenceEqual(sessionKey);
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

    private static byte Hex(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);

    private static byte[] GlobEscape(byte[] literal)
    {
        var pattern = new List<byte>(literal.Length * 2);
        foreach (var b in literal)
        {
            if (b is (byte)'*' or (byte)'?' or (byte)'[' or (byte)']' or (byte)'\\')
            {
                pattern.Add((byte)'\\');
            }

            pattern.Add(b);
        }

        return [.. pattern];
    }
}
