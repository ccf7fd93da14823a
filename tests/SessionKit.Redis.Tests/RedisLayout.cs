using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace SessionKit.Tests;

/// <summary>
/// The documented key layout, computed here independently of the store: a session's bucket is the first 10 bits of
/// the SHA-256 of its id's UTF-8, written as three lower-case hex digits in braces (the cluster hash tag).
/// </summary>
internal static class RedisLayout
{
    /// <summary>Gets the bucket tag of an id, <c>{BBB}</c>.</summary>
    public static string Tag(string id)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(id));
        var bucket = ((digest[0] << 8) | digest[1]) >> 6;
        return "{" + bucket.ToString("x3", System.Globalization.CultureInfo.InvariantCulture) + "}";
    }

    /// <summary>Gets a session's hash key, <c>{prefix}{BBB}:s:{id}</c>.</summary>
    public static RedisKey SessionKey(string prefix, string id) => Encoding.UTF8.GetBytes(prefix + Tag(id) + ":s:" + id);

    /// <summary>Gets the expiry set of the session's bucket, <c>{prefix}{BBB}:x</c>.</summary>
    public static RedisKey ExpiryKey(string prefix, string id) => prefix + Tag(id) + ":x";
}
