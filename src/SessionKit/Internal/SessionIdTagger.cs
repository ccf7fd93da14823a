using System.Security.Cryptography;
using System.Text;

namespace SessionKit.Internal;

/// <summary>
/// Turns a session id into a short salted tag for logs: HMAC-SHA256 under a per-process random key, first 6 bytes
/// as hex. The same id yields the same tag within a process (so a log reader can follow one session), the tag
/// cannot be reversed, and tags do not correlate across processes.
/// </summary>
internal static class SessionIdTagger
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);

    public static string Tag(string id)
    {
        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        var maxBytes = Encoding.UTF8.GetMaxByteCount(id.Length);
        var buffer = maxBytes <= 256 ? stackalloc byte[maxBytes] : new byte[maxBytes];
        var written = Encoding.UTF8.GetBytes(id, buffer);
        HMACSHA256.HashData(Key, buffer[..written], hash);
        return Convert.ToHexStringLower(hash[..6]);
    }
}
