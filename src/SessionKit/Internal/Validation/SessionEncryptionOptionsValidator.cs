using Microsoft.Extensions.Options;
using SessionKit.Security;

namespace SessionKit.Internal;

/// <summary>Rejects a key ring that cannot seal or open values unambiguously, naming the option (never a key's bytes).</summary>
internal sealed class SessionEncryptionOptionsValidator : IValidateOptions<SessionEncryptionOptions>
{
    public ValidateOptionsResult Validate(string? name, SessionEncryptionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!IsWellFormedKeyId(options.KeyId))
        {
            failures.Add($"SessionEncryptionOptions.KeyId must be 1 to {SessionEncryptionOptions.MaxKeyIdLength} ASCII letters, digits, '.', '_' or '-' (was {Describe(options.KeyId)}).");
        }

        if (options.Key is not { Length: SessionEncryptionOptions.KeyBytes })
        {
            failures.Add($"SessionEncryptionOptions.Key must be exactly {SessionEncryptionOptions.KeyBytes} bytes (was {(options.Key is null ? "null" : $"{options.Key.Length} bytes")}).");
        }

        if (options.PreviousKeys is null)
        {
            failures.Add("SessionEncryptionOptions.PreviousKeys must not be null.");
            return ValidateOptionsResult.Fail(failures);
        }

        foreach (var (keyId, key) in options.PreviousKeys)
        {
            if (!IsWellFormedKeyId(keyId))
            {
                failures.Add($"SessionEncryptionOptions.PreviousKeys has a key id that is not 1 to {SessionEncryptionOptions.MaxKeyIdLength} ASCII letters, digits, '.', '_' or '-' (was {Describe(keyId)}).");
            }
            else if (string.Equals(keyId, options.KeyId, StringComparison.Ordinal))
            {
                failures.Add($"SessionEncryptionOptions.PreviousKeys must not contain the current KeyId '{keyId}'.");
            }

            if (key is not { Length: SessionEncryptionOptions.KeyBytes })
            {
                failures.Add($"SessionEncryptionOptions.PreviousKeys['{(IsWellFormedKeyId(keyId) ? keyId : "?")}'] must be exactly {SessionEncryptionOptions.KeyBytes} bytes (was {(key is null ? "null" : $"{key.Length} bytes")}).");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Determines whether a key id can be written into the sealed format and quoted in messages as is.</summary>
    internal static bool IsWellFormedKeyId(string? keyId)
    {
        if (string.IsNullOrEmpty(keyId) || keyId.Length > SessionEncryptionOptions.MaxKeyIdLength)
        {
            return false;
        }

        foreach (var c in keyId)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static string Describe(string? keyId) => keyId switch
    {
        null => "null",
        "" => "empty",
        _ => $"{keyId.Length} characters",
    };
}
