using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;

namespace SessionKit.Security;

/// <summary>Generates and shape-checks session ids: 256 bits from <see cref="RandomNumberGenerator"/>, base64url, 43 characters.</summary>
public static class SessionIds
{
    /// <summary>The length of every session id, in characters.</summary>
    public const int Length = 43;

    private const int ByteCount = 32;

    // 32 bytes encode to 42 full base64 characters plus one carrying the last 4 bits and 2 zero bits.
    private const string CanonicalLastCharacters = "AEIMQUYcgkosw048";

    private static readonly SearchValues<char> Base64UrlCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    /// <summary>Generates a new session id.</summary>
    /// <returns>A 43-character base64url string carrying 256 random bits.</returns>
    public static string Generate()
    {
        Span<byte> bytes = stackalloc byte[ByteCount];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>
    /// Determines whether a presented string has the exact shape of an id this library issues. Anything else is
    /// answered "not found" without touching a store.
    /// </summary>
    /// <param name="id">The presented id.</param>
    /// <returns><see langword="true"/> when <paramref name="id"/> is 43 canonical base64url characters.</returns>
    public static bool IsWellFormed(string? id)
    {
        return id is { Length: Length }
            && !id.AsSpan().ContainsAnyExcept(Base64UrlCharacters)
            && CanonicalLastCharacters.Contains(id[^1], StringComparison.Ordinal);
    }
}
