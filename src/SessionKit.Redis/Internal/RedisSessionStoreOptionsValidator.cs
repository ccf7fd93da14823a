using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace SessionKit.Redis.Internal;

/// <summary>Rejects Redis store options that cannot work, naming the option.</summary>
internal sealed class RedisSessionStoreOptionsValidator : IValidateOptions<RedisSessionStoreOptions>
{
    private static readonly TimeSpan MaxOperationTimeout = TimeSpan.FromMinutes(5);

    public ValidateOptionsResult Validate(string? name, RedisSessionStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var sources = (string.IsNullOrWhiteSpace(options.Configuration) ? 0 : 1)
            + (options.ConnectionMultiplexer is null ? 0 : 1)
            + (options.ConnectionMultiplexerFactory is null ? 0 : 1);
        if (sources == 0)
        {
            failures.Add("RedisSessionStoreOptions needs a connection: set Configuration, ConnectionMultiplexer or ConnectionMultiplexerFactory.");
        }
        else if (sources > 1)
        {
            failures.Add("RedisSessionStoreOptions: set only one of Configuration, ConnectionMultiplexer and ConnectionMultiplexerFactory.");
        }

        if (!string.IsNullOrWhiteSpace(options.Configuration))
        {
            try
            {
                _ = ConfigurationOptions.Parse(options.Configuration);
            }
            catch (ArgumentException ex)
            {
                failures.Add($"RedisSessionStoreOptions.Configuration is not a valid StackExchange.Redis configuration string: {ex.Message}");
            }
        }

        if (string.IsNullOrEmpty(options.KeyPrefix))
        {
            failures.Add("RedisSessionStoreOptions.KeyPrefix must not be empty.");
        }
        else if (options.KeyPrefix.AsSpan().IndexOfAny('{', '}') >= 0)
        {
            failures.Add("RedisSessionStoreOptions.KeyPrefix must not contain '{' or '}': the store gives every key its own Redis Cluster hash tag.");
        }

        if (options.OperationTimeout <= TimeSpan.Zero || options.OperationTimeout > MaxOperationTimeout)
        {
            failures.Add("RedisSessionStoreOptions.OperationTimeout must be positive and at most 5 minutes.");
        }

        if (options.ExpiryGracePeriod <= TimeSpan.Zero)
        {
            failures.Add("RedisSessionStoreOptions.ExpiryGracePeriod must be positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
