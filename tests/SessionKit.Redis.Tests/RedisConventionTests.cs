using System.Reflection;
using System.Text.RegularExpressions;
using SessionKit.Redis;

namespace SessionKit.Tests;

/// <summary>The package conventions for SessionKit.Redis (log events 200–299), plus single-key scripts.</summary>
public sealed partial class RedisConventionTests : PackageConventionTests
{
    protected override Assembly Library { get; } = typeof(RedisSessionStore).Assembly;

    protected override string TestProject => "SessionKit.Redis.Tests";

    protected override int MinimumLogEvents => 4;

    protected override (int Min, int Max) EventIdRange(Type owner) => (200, 299);

    [Fact]
    public void EveryScript_ReferencesOnlyItsDeclaredKeys_AndOnlyTheSessionScriptsTheBucketsExpirySet()
    {
        RedisSessionStore.Scripts.All.Should().HaveCount(7);
        var withExpirySet = new[] { "create", "delete", "sweep" };
        foreach (var script in RedisSessionStore.Scripts.All)
        {
            // KEYS[2] is always the expiry set of KEYS[1]'s bucket: the same hash tag, so the same cluster slot.
            string[] expected = withExpirySet.Contains(script.Name) ? ["KEYS[1]", "KEYS[2]"] : ["KEYS[1]"];
            KeyReference().Matches(script.Text).Select(static m => m.Value).Distinct().Order(StringComparer.Ordinal).Should().Equal(expected, $"the {script.Name} script touches only its declared keys");
            script.Text.Should().NotContain("redis.call('KEYS'").And.NotContain("SCAN", $"the {script.Name} script never reaches keys it did not declare");
        }
    }

    [GeneratedRegex(@"KEYS\[[^\]]*\]")]
    private static partial Regex KeyReference();
}
