using Microsoft.Extensions.Options;

namespace SessionKit.Redis.Internal;

/// <summary>Rejects Redis backplane options that cannot work, naming the option.</summary>
internal sealed class RedisSessionBackplaneOptionsValidator : IValidateOptions<RedisSessionBackplaneOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisSessionBackplaneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var sources = (string.IsNullOrWhiteSpace(options.Configuration) ? 0 : 1)
            + (options.ConnectionMultiplexer is null ? 0 : 1)
            + (options.ConnectionMultiplexerFactory is null ? 0 : 1);
        if (sources != 1)
        {
            failures.Add("RedisSessionBackplaneOptions needs exactly one of Configuration, ConnectionMultiplexer and ConnectionMultiplexerFactory (AddRedisBackplane() copies the Redis store's when none is set).");
        }

        if (string.IsNullOrWhiteSpace(options.Channel))
        {
            failures.Add("RedisSessionBackplaneOptions.Channel must not be empty.");
        }

        if (options.HeartbeatInterval <= TimeSpan.Zero)
        {
            failures.Add("RedisSessionBackplaneOptions.HeartbeatInterval must be positive.");
        }

        if (options.HeartbeatTimeout <= options.HeartbeatInterval)
        {
            failures.Add("RedisSessionBackplaneOptions.HeartbeatTimeout must be longer than HeartbeatInterval.");
        }

        if (options.PublishTimeout <= TimeSpan.Zero)
        {
            failures.Add("RedisSessionBackplaneOptions.PublishTimeout must be positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
