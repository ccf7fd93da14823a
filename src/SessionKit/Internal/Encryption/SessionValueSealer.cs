using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using SessionKit.Security;

namespace SessionKit.Internal.Encryption;

/// <summary>
/// Seals and opens single metadata and state values with AES-256-GCM under a key ring. The stored form is
/// <c>skenc1:{keyId}:{base64url(nonce ‖ ciphertext ‖ tag)}</c>; the associated data binds it to the session's handle,
/// to whether it is metadata or state, and to its key.
/// </summary>
internal sealed class SessionValueSealer : IDisposable
{
    /// <summary>The prefix every sealed value starts with.</summary>
    public const string Prefix = "skenc1:";

    /// <summary>The metadata kind in the associated data.</summary>
    public const byte MetadataKind = (byte)'m';

    /// <summary>The state kind in the associated data.</summary>
    public const byte StateKind = (byte)'s';

    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private const int StackLimit = 512;
    private static readonly byte[] AadLabel = "skenc1\0"u8.ToArray();

    private readonly KeySlot _current;
    private readonly Dictionary<string, KeySlot> _keys;

    /// <summary>Initializes a new instance of the <see cref="SessionValueSealer"/> class from validated options (the keys are copied).</summary>
    public SessionValueSealer(SessionEncryptionOptions options)
    {
        _current = new KeySlot(options.KeyId!, options.Key!);
        _keys = new(StringComparer.Ordinal) { [_current.Id] = _current };
        foreach (var (id, key) in options.PreviousKeys)
        {
            _keys[id] = new KeySlot(id, key);
        }
    }

    /// <summary>Determines whether a stored metadata value is sealed (else it was written in clear, before encryption).</summary>
    public static bool IsSealed(string value) => value.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Seals a value under the current key.</summary>
    /// <param name="handle">The session's handle.</param>
    /// <param name="kind"><see cref="MetadataKind"/> or <see cref="StateKind"/>.</param>
    /// <param name="key">The metadata or state key.</param>
    /// <param name="plaintext">The value's bytes.</param>
    /// <returns>The stored form.</returns>
    public string Seal(string handle, byte kind, string key, ReadOnlySpan<byte> plaintext)
    {
        var length = NonceBytes + plaintext.Length + TagBytes + MaxAssociatedDataLength(handle, key);
        byte[]? rented = null;
        var buffer = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var output = buffer[..(NonceBytes + plaintext.Length + TagBytes)];
            var aad = WriteAssociatedData(buffer[output.Length..], handle, kind, key);
            RandomNumberGenerator.Fill(output[..NonceBytes]);
            var aes = _current.Rent();
            try
            {
                aes.Encrypt(output[..NonceBytes], plaintext, output.Slice(NonceBytes, plaintext.Length), output[^TagBytes..], aad);
            }
            finally
            {
                _current.Return(aes);
            }

            return string.Concat(Prefix, _current.Id, ":", Base64Url.EncodeToString(output));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Opens a sealed value (one <see cref="IsSealed"/> accepts).</summary>
    /// <param name="handle">The session's handle.</param>
    /// <param name="kind"><see cref="MetadataKind"/> or <see cref="StateKind"/>.</param>
    /// <param name="key">The metadata or state key it is stored under.</param>
    /// <param name="stored">The stored form.</param>
    /// <returns>The value's bytes.</returns>
    /// <exception cref="SessionFormatException">The value is malformed, sealed with a key id not in the ring, or fails authentication.</exception>
    public byte[] Open(string handle, byte kind, string key, string stored)
    {
        var what = kind == MetadataKind ? "metadata" : "state";
        var rest = stored.AsSpan(Prefix.Length);
        var colon = rest.IndexOf(':');
        var keyId = colon > 0 ? rest[..colon].ToString() : null;
        if (!SessionEncryptionOptionsValidator.IsWellFormedKeyId(keyId))
        {
            throw new SessionFormatException($"The sealed {what} value of key '{key}' is malformed (no valid key id).");
        }

        if (!_keys.TryGetValue(keyId!, out var slot))
        {
            throw new SessionFormatException(
                $"The {what} value of key '{key}' is sealed with encryption key id '{keyId}', which is neither SessionEncryptionOptions.KeyId nor in its PreviousKeys.");
        }

        var encoded = rest[(colon + 1)..];
        var length = Base64Url.GetMaxDecodedLength(encoded.Length) + MaxAssociatedDataLength(handle, key);
        byte[]? rented = null;
        var buffer = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var decodedSpace = buffer[..Base64Url.GetMaxDecodedLength(encoded.Length)];
            if (Base64Url.DecodeFromChars(encoded, decodedSpace, out _, out var written) != OperationStatus.Done || written < NonceBytes + TagBytes)
            {
                throw new SessionFormatException($"The sealed {what} value of key '{key}' is malformed (not base64url, or too short).");
            }

            var input = decodedSpace[..written];
            var aad = WriteAssociatedData(buffer[decodedSpace.Length..], handle, kind, key);
            var plaintext = new byte[written - NonceBytes - TagBytes];
            var aes = slot.Rent();
            try
            {
                aes.Decrypt(input[..NonceBytes], input[NonceBytes..^TagBytes], input[^TagBytes..], plaintext, aad);
            }
            catch (AuthenticationTagMismatchException ex)
            {
                throw new SessionFormatException(
                    $"The sealed {what} value of key '{key}' failed authentication under encryption key id '{keyId}': it was altered, or copied from another key or session.", ex);
            }
            finally
            {
                slot.Return(aes);
            }

            return plaintext;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Releases the pooled cipher instances.</summary>
    public void Dispose()
    {
        foreach (var slot in _keys.Values)
        {
            slot.Dispose();
        }
    }

    private static int MaxAssociatedDataLength(string handle, string key) =>
        AadLabel.Length + Encoding.UTF8.GetMaxByteCount(handle.Length) + 3 + Encoding.UTF8.GetMaxByteCount(key.Length);

    // AAD = "skenc1\0" ‖ handle ‖ "\0" ‖ kind ‖ "\0" ‖ UTF-8 key. A handle never holds a NUL and the kind is one byte,
    // so no two (handle, kind, key) triples share an encoding.
    private static ReadOnlySpan<byte> WriteAssociatedData(Span<byte> destination, string handle, byte kind, string key)
    {
        AadLabel.CopyTo(destination);
        var at = AadLabel.Length;
        at += Encoding.UTF8.GetBytes(handle, destination[at..]);
        destination[at++] = 0;
        destination[at++] = kind;
        destination[at++] = 0;
        at += Encoding.UTF8.GetBytes(key, destination[at..]);
        return destination[..at];
    }

    /// <summary>One key of the ring and a small pool of ciphers for it (an <see cref="AesGcm"/> is not safe for concurrent use).</summary>
    private sealed class KeySlot(string id, byte[] key) : IDisposable
    {
        private readonly byte[] _key = (byte[])key.Clone();
        private readonly ConcurrentQueue<AesGcm> _pool = new();
        private readonly int _capacity = Math.Max(4, Environment.ProcessorCount * 2);
        private volatile bool _disposed;

        public string Id { get; } = id;

        public AesGcm Rent() => _pool.TryDequeue(out var aes) ? aes : new AesGcm(_key, TagBytes);

        public void Return(AesGcm aes)
        {
            if (_disposed || _pool.Count >= _capacity)
            {
                aes.Dispose();
                return;
            }

            _pool.Enqueue(aes);
        }

        public void Dispose()
        {
            _disposed = true;
            while (_pool.TryDequeue(out var aes))
            {
                aes.Dispose();
            }
        }
    }
}
