using Microsoft.Extensions.Options;

namespace SessionKit.Internal;

/// <summary>Rejects contradictory or nonsensical <see cref="SessionKitOptions"/>, naming the option.</summary>
internal sealed class SessionKitOptionsValidator : IValidateOptions<SessionKitOptions>
{
    public ValidateOptionsResult Validate(string? name, SessionKitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.IdleTimeout <= TimeSpan.Zero)
        {
            failures.Add($"SessionKitOptions.IdleTimeout must be positive (was {options.IdleTimeout}).");
        }

        if (options.AbsoluteTimeout is { } absolute && absolute < options.IdleTimeout)
        {
            failures.Add($"SessionKitOptions.AbsoluteTimeout ({absolute}) must not be shorter than IdleTimeout ({options.IdleTimeout}).");
        }

        if (options.TouchThreshold is { } threshold && (threshold <= TimeSpan.Zero || threshold >= options.IdleTimeout))
        {
            failures.Add($"SessionKitOptions.TouchThreshold ({threshold}) must be positive and shorter than IdleTimeout ({options.IdleTimeout}).");
        }

        if (options.CleanupInterval <= TimeSpan.Zero)
        {
            failures.Add($"SessionKitOptions.CleanupInterval must be positive (was {options.CleanupInterval}); set EnableBackgroundCleanup to false to turn the background sweep off.");
        }

        if (options.CleanupBatchSize <= 0)
        {
            failures.Add($"SessionKitOptions.CleanupBatchSize must be positive (was {options.CleanupBatchSize}).");
        }

        if (options.MaxStateBytes <= 0)
        {
            failures.Add($"SessionKitOptions.MaxStateBytes must be positive (was {options.MaxStateBytes}).");
        }

        if (options.MaxSessionsPerUser is <= 0)
        {
            failures.Add($"SessionKitOptions.MaxSessionsPerUser must be positive when set (was {options.MaxSessionsPerUser}).");
        }

        if (!Enum.IsDefined(options.MaxSessionsPolicy))
        {
            failures.Add($"SessionKitOptions.MaxSessionsPolicy has an undefined value ({(int)options.MaxSessionsPolicy}).");
        }

        if (options.RotationGracePeriod < TimeSpan.Zero)
        {
            failures.Add($"SessionKitOptions.RotationGracePeriod must not be negative (was {options.RotationGracePeriod}).");
        }

        if (options.RotationTimeout <= TimeSpan.Zero)
        {
            failures.Add($"SessionKitOptions.RotationTimeout must be positive (was {options.RotationTimeout}).");
        }

        if (options.Cache is null)
        {
            failures.Add("SessionKitOptions.Cache must not be null.");
        }
        else if (options.Cache.Enabled && new Caching.SessionCacheOptionsValidator().Validate(name, options.Cache) is { Failed: true } cache)
        {
            failures.AddRange(cache.Failures);
        }

        if (options.Encryption is not null && new SessionEncryptionOptionsValidator().Validate(name, options.Encryption) is { Failed: true } encryption)
        {
            failures.AddRange(encryption.Failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
