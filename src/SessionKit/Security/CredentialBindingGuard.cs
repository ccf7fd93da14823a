using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace SessionKit.Security;

/// <summary>
/// Binds a session to the credential (API key, static bearer token) its creator presented:
/// HMAC-SHA256(server key, per-session 16-byte salt ‖ credential), compared with
/// <see cref="CryptographicOperations.FixedTimeEquals"/>. The raw credential is never stored.
/// </summary>
/// <remarks>
/// <para>A session created without a credential is anonymous: a caller presenting a credential to it is rejected
/// (session-upgrade attack); upgrade it with <see cref="ISessionManager.RotateAsync"/> and a re-bind instead.</para>
/// <para>Fails closed: missing, partial or malformed binding data rejects the access. A session bound under a key
/// listed in <see cref="CredentialBindingOptions.PreviousKeys"/> is accepted and re-bound under the current key.</para>
/// </remarks>
public sealed partial class CredentialBindingGuard : ISessionGuard
{
    internal const string ModeKey = "cred.mode";
    internal const string SaltKey = "cred.salt";
    internal const string KeyIdKey = "cred.kid";
    internal const string MacKey = "cred.mac";
    private const string Anonymous = "anonymous";
    private const string Hmac = "hmac-sha256";
    private const int SaltBytes = 16;

    private readonly byte[] _key;
    private readonly string _keyId;
    private readonly (string Id, byte[] Key)[] _previous;

    /// <summary>Initializes a new instance of the <see cref="CredentialBindingGuard"/> class.</summary>
    /// <param name="options">The options.</param>
    /// <param name="logger">The logger; warns when no key is configured.</param>
    /// <exception cref="OptionsValidationException">A key is shorter than <see cref="CredentialBindingOptions.MinimumKeyBytes"/>.</exception>
    public CredentialBindingGuard(IOptions<CredentialBindingOptions> options, ILogger<CredentialBindingGuard>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var value = options.Value;
        var failures = Validate(value);
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(CredentialBindingOptions), failures);
        }

        if (value.Key is null)
        {
            Log.RandomKey(logger ?? (ILogger)NullLogger.Instance);
        }

        _key = value.Key is null ? RandomNumberGenerator.GetBytes(CredentialBindingOptions.MinimumKeyBytes) : [.. value.Key];
        _keyId = KeyId(_key);
        _previous = [.. value.PreviousKeys.Select(static k => (KeyId(k), k.ToArray()))];
    }

    /// <inheritdoc />
    public string Name => "credential";

    /// <inheritdoc />
    public void Bind(SessionAccessContext access, SessionChanges binding)
    {
        ArgumentNullException.ThrowIfNull(access);
        ArgumentNullException.ThrowIfNull(binding);
        if (access.Credential is null)
        {
            binding.SetBinding(ModeKey, Anonymous).RemoveBinding(SaltKey).RemoveBinding(KeyIdKey).RemoveBinding(MacKey);
            return;
        }

        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        binding.SetBinding(ModeKey, Hmac)
            .SetBinding(SaltKey, Convert.ToBase64String(salt))
            .SetBinding(KeyIdKey, _keyId)
            .SetBinding(MacKey, Mac(_key, salt, access.Credential));
    }

    /// <inheritdoc />
    public SessionGuardResult Check(Session session, SessionAccessContext access)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(access);
        if (!session.Binding.TryGetValue(ModeKey, out var mode))
        {
            return SessionGuardResult.Reject("the session has no credential binding data");
        }

        if (mode == Anonymous)
        {
            return access.Credential is null
                ? SessionGuardResult.Allow
                : SessionGuardResult.Reject("a credential was presented to an anonymous session (upgrade through rotation)");
        }

        if (mode != Hmac
            || !session.Binding.TryGetValue(SaltKey, out var saltText)
            || !session.Binding.TryGetValue(KeyIdKey, out var keyId)
            || !session.Binding.TryGetValue(MacKey, out var storedMac))
        {
            return SessionGuardResult.Reject("the credential binding data is partial or of an unknown mode");
        }

        if (access.Credential is null)
        {
            return SessionGuardResult.Reject("no credential was presented to a credential-bound session");
        }

        Span<byte> salt = stackalloc byte[SaltBytes];
        if (!Convert.TryFromBase64String(saltText, salt, out var saltLength) || saltLength != SaltBytes)
        {
            return SessionGuardResult.Reject("the credential binding salt is malformed");
        }

        byte[]? key = keyId == _keyId ? _key : null;
        var rotated = false;
        if (key is null)
        {
            foreach (var (id, previous) in _previous)
            {
                if (id == keyId)
                {
                    key = previous;
                    rotated = true;
                    break;
                }
            }
        }

        if (key is null)
        {
            return SessionGuardResult.Reject("the session was bound under a server key that is no longer configured");
        }

        if (!Internal.BindingHash.FixedTimeEqualsBase64(storedMac, Mac(key, salt, access.Credential)))
        {
            return SessionGuardResult.Reject("the presented credential does not match the session's binding");
        }

        if (!rotated)
        {
            return SessionGuardResult.Allow;
        }

        var rebind = new SessionChanges();
        Bind(access, rebind);
        return SessionGuardResult.AllowAndRebind(rebind);
    }

    internal static List<string> Validate(CredentialBindingOptions options)
    {
        var failures = new List<string>();
        if (options.Key is { Length: < CredentialBindingOptions.MinimumKeyBytes } key)
        {
            failures.Add($"CredentialBindingOptions.Key must be at least {CredentialBindingOptions.MinimumKeyBytes} bytes (was {key.Length}).");
        }

        for (var i = 0; i < options.PreviousKeys.Count; i++)
        {
            if (options.PreviousKeys[i] is not { Length: >= CredentialBindingOptions.MinimumKeyBytes })
            {
                failures.Add($"CredentialBindingOptions.PreviousKeys[{i}] must be at least {CredentialBindingOptions.MinimumKeyBytes} bytes.");
            }
        }

        return failures;
    }

    private static string KeyId(byte[] key) => Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 8));

    private static string Mac(byte[] key, ReadOnlySpan<byte> salt, string credential)
    {
        var credentialBytes = Encoding.UTF8.GetBytes(credential);
        var message = new byte[salt.Length + credentialBytes.Length];
        salt.CopyTo(message);
        credentialBytes.CopyTo(message.AsSpan(salt.Length));
        var mac = HMACSHA256.HashData(key, message);
        CryptographicOperations.ZeroMemory(message);
        CryptographicOperations.ZeroMemory(credentialBytes);
        return Convert.ToBase64String(mac);
    }

    private static partial class Log
    {
        [LoggerMessage(30, LogLevel.Warning, "CredentialBindingOptions.Key is not set: using a random per-process key. Credential-bound sessions will not survive a restart or move between nodes; configure a shared key of at least 32 bytes.", EventName = "CredentialBindingRandomKey")]
        public static partial void RandomKey(ILogger logger);
    }
}
