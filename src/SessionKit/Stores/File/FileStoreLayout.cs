using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace SessionKit.Internal;

/// <summary>
/// Where the file store keeps things. Every name under the root is derived from a SHA-256 hash, so no input can
/// reach a path outside the root and no session id appears in a path.
/// </summary>
/// <remarks>
/// <code>
/// root/.layout                       layout version marker
/// root/abc/&lt;hash&gt;.json             a session (abc = first 3 hex digits of its hash: 4096 shards)
/// root/abc/&lt;hash&gt;.&lt;random&gt;.tmp     a write in progress (or left by a crashed writer)
/// root/.locks/abc.lock               the shard's cross-process lock file (never deleted)
/// root/.index/user/ab/&lt;uhash&gt;/&lt;hash&gt; a marker: the session may belong to that user (superset index)
/// root/.quarantine/                  unreadable files moved aside
/// </code>
/// The shard count and hash are part of the cross-process protocol: processes sharing a directory must agree on them,
/// so they are constants, and <see cref="LayoutVersion"/> changes if they ever do.
/// </remarks>
internal sealed class FileStoreLayout
{
    public const int LayoutVersion = 1;
    public const int ShardCount = 4096;
    public const int HashLength = 64;
    public const string SessionExtension = ".json";
    public const string TempExtension = ".tmp";

    public FileStoreLayout(string root)
    {
        Root = root;
        LockDirectory = Path.Combine(root, ".locks");
        QuarantineDirectory = Path.Combine(root, ".quarantine");
        IndexDirectory = Path.Combine(root, ".index");
        LayoutFile = Path.Combine(root, ".layout");
    }

    public string Root { get; }

    public string LockDirectory { get; }

    public string QuarantineDirectory { get; }

    public string IndexDirectory { get; }

    public string LayoutFile { get; }

    /// <summary>Hashes a string exactly (its UTF-16 code units, little-endian), so distinct strings never share a hash input.</summary>
    public static string Hash(string value)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var bytes = MemoryMarshal.AsBytes(value.AsSpan());
        if (BitConverter.IsLittleEndian)
        {
            SHA256.HashData(bytes, hash);
        }
        else
        {
            var units = new ushort[value.Length];
            for (var i = 0; i < units.Length; i++)
            {
                units[i] = BinaryPrimitives.ReverseEndianness(value[i]);
            }

            SHA256.HashData(MemoryMarshal.AsBytes(units.AsSpan()), hash);
        }

        return Convert.ToHexStringLower(hash);
    }

    /// <summary>
    /// Determines whether a string survives the JSON round trip unchanged. System.Text.Json writes an unpaired
    /// surrogate as U+FFFD, so an id holding one could never be read back as itself.
    /// </summary>
    public static bool IsStorable(string value) =>
        value.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0 || StoredForm(value).Equals(value, StringComparison.Ordinal);

    /// <summary>The string as it reads back from a stored document: every unpaired surrogate becomes U+FFFD.</summary>
    public static string StoredForm(string value)
    {
        if (value.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            return value;
        }

        var chars = value.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(chars[i]))
            {
                chars[i] = '\uFFFD';
            }
        }

        return new string(chars);
    }

    public static bool IsHash(ReadOnlySpan<char> name) => name.Length == HashLength && IsLowerHex(name);

    public static bool IsShardName(ReadOnlySpan<char> name) => name.Length == 3 && IsLowerHex(name);

    private static bool IsLowerHex(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    public static int ShardOf(string hash) => Convert.ToInt32(hash[..3], 16);

    public static string ShardName(int shard) => shard.ToString("x3", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A short, non-reversible tag for logs: the first 8 hex digits of the file's hash (never the id).</summary>
    public static string Tag(string hash) => hash[..8];

    public string ShardDirectory(string hash) => Path.Combine(Root, hash[..3]);

    public string ShardDirectory(int shard) => Path.Combine(Root, ShardName(shard));

    public string SessionPath(string hash) => Path.Combine(Root, hash[..3], hash + SessionExtension);

    public string TempPath(string hash) => Path.Combine(Root, hash[..3], $"{hash}.{RandomHex(8)}{TempExtension}");

    public string LockPath(int shard) => Path.Combine(LockDirectory, ShardName(shard) + ".lock");

    /// <summary>The marker directory of a user, keyed by the user id as stored (see <see cref="StoredForm"/>).</summary>
    public string UserIndexDirectory(string userId)
    {
        var userHash = Hash(StoredForm(userId));
        return Path.Combine(IndexDirectory, "user", userHash[..2], userHash);
    }

    public string QuarantinePath(string hash) => Path.Combine(QuarantineDirectory, $"{Tag(hash)}-{RandomHex(8)}{SessionExtension}");

    public static string RandomHex(int bytes)
    {
        Span<byte> buffer = stackalloc byte[bytes];
        RandomNumberGenerator.Fill(buffer);
        return Convert.ToHexStringLower(buffer);
    }
}
