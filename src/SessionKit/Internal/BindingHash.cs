using System.Security.Cryptography;
using System.Text;

namespace SessionKit.Internal;

/// <summary>Hashing and constant-time comparison helpers shared by the guards.</summary>
internal static class BindingHash
{
    /// <summary>SHA-256 of the UTF-8 parts joined by a separator no part can contain ambiguously (length-prefixed).</summary>
    public static string Sha256(params ReadOnlySpan<string> parts)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (var part in parts)
        {
            var bytes = Encoding.UTF8.GetBytes(part);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }

        return Convert.ToBase64String(hash.GetHashAndReset());
    }

    /// <summary>Compares two base64 strings' decoded bytes in constant time; malformed input compares unequal.</summary>
    public static bool FixedTimeEqualsBase64(string? stored, string computed)
    {
        if (stored is null)
        {
            return false;
        }

        Span<byte> a = stackalloc byte[64];
        Span<byte> b = stackalloc byte[64];
        if (!Convert.TryFromBase64String(stored, a, out var aLength) || !Convert.TryFromBase64String(computed, b, out var bLength))
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(a[..aLength], b[..bLength]);
    }
}
