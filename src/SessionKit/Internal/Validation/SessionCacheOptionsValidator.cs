using Microsoft.Extensions.Options;

namespace SessionKit.Caching;

/// <summary>Rejects cache options that cannot work, naming the option.</summary>
internal sealed class SessionCacheOptionsValidator : IValidateOptions<SessionCacheOptions>
{
    public ValidateOptionsResult Validate(string? name, SessionCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.MaxEntries <= 0)
        {
            failures.Add("SessionCacheOptions.MaxEntries must be positive.");
        }

        if (options.EntryDuration <= TimeSpan.Zero)
        {
            failures.Add("SessionCacheOptions.EntryDuration must be positive.");
        }

        if (options.DisconnectedEntryDuration < TimeSpan.Zero || options.DisconnectedEntryDuration > options.EntryDuration)
        {
            failures.Add("SessionCacheOptions.DisconnectedEntryDuration must not be negative or longer than EntryDuration.");
        }

        if (options.StrictRevocation && options.DisconnectedEntryDuration > TimeSpan.Zero)
        {
            failures.Add("SessionCacheOptions.DisconnectedEntryDuration above zero serves entries no backplane vouches for; it requires StrictRevocation = false.");
        }

        if (options.TouchFlushAccessCount <= 0)
        {
            failures.Add("SessionCacheOptions.TouchFlushAccessCount must be positive.");
        }

        if (options.TouchFlushInterval <= TimeSpan.Zero)
        {
            failures.Add("SessionCacheOptions.TouchFlushInterval must be positive.");
        }

        if (options.DisposeFlushTimeout <= TimeSpan.Zero)
        {
            failures.Add("SessionCacheOptions.DisposeFlushTimeout must be positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
