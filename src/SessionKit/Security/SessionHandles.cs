using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace SessionKit.Security;

/// <summary>
/// Derives a session's <b>handle</b> from its id: a non-secret name for logs, URLs, management screens and storage
/// keys. It is a one-way hash (SHA-256 under a fixed domain label, first 16 bytes, base64url: 22 characters), so it
/// cannot be turned back into the id, and a store keyed by handles holds nothing that can hijack a session.
/// </summary>
public static class SessionHandles
{
    /// <summary>The length of every handle, in characters.</summary>
    public const int Length = 22;

    private const int ByteCount = 16;
    private static readonly byte[] Domain = "sessionkit/handle/v1\0"u8.ToArray();

    /// <summary>Derives the handle of a session id.</summary>
    /// <param name="id">The session id.</param>
    /// <returns>The 22-character handle.</returns>
    public static string FromId(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var maxBytes = Domain.Length + Encoding.UTF8.GetMaxByteCount(id.Length);
        var buffer = maxBytes <= 512 ? stackalloc byte[maxBytes] : new byte[maxBytes];
        Domain.CopyTo(buffer);
        var written = Domain.Length + Encoding.UTF8.GetBytes(id, buffer[Domain.Length..]);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(buffer[..written], hash);
        return Base64Url.EncodeToString(hash[..ByteCount]);
    }

    /// <summary>Determines whether a string has the shape of a handle (22 base64url characters), before any store access.</summary>
    /// <param name="handle">The candidate.</param>
    /// <returns><see langword="true"/> when it could be a handle.</returns>
    public static bool IsWellFormed(string? handle) =>
        handle is { Length: Length } && Base64Url.IsValid(handle, out var decoded) && decoded == ByteCount;
}
