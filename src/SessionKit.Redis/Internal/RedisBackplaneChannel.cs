using System.Reflection;
using StackExchange.Redis;

namespace SessionKit.Redis.Internal;

/// <summary>
/// Builds the backplane's channel so that, on a cluster, every node subscribes and publishes on one master: the one
/// serving the channel name's slot. Strict revocation relies on one server delivering the channel in publish order
/// (DESIGN §13); frames that cross the cluster bus between two masters carry no such order.
/// </summary>
/// <remarks>
/// StackExchange.Redis before 2.9.24 routes every literal channel by its slot. From 2.9.24 on it spreads literal
/// channels over the masters unless the channel opts in with <c>RedisChannel.WithKeyRouting()</c>, which this package
/// (built against 2.7.27) can only reach by reflection. On a standalone server routing is moot.
/// </remarks>
internal static class RedisBackplaneChannel
{
    private static readonly MethodInfo? WithKeyRouting =
        typeof(RedisChannel).GetMethod("WithKeyRouting", BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes) is { } method
        && method.ReturnType == typeof(RedisChannel)
            ? method
            : null;

    /// <summary>Gets a value indicating whether the client needs the opt-in (and has it).</summary>
    public static bool OptsIntoKeyRouting => WithKeyRouting is not null;

    /// <summary>Creates the literal channel, routed by its slot on every client version.</summary>
    /// <param name="name">The channel name.</param>
    /// <returns>The channel.</returns>
    public static RedisChannel Create(string name)
    {
        var channel = RedisChannel.Literal(name);
        return WithKeyRouting is null ? channel : (RedisChannel)WithKeyRouting.Invoke(channel, null)!;
    }
}
