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
    public void EveryScript_ReferencesOnlyItsOneDeclaredKey()
    {
        RedisSessionStore.Scripts.All.Should().HaveCount(7);
        foreach (var script in RedisSessionStore.Scripts.All)
        {
            KeyReference().Matches(script.Text).Select(static m => m.Value).Distinct().Should().Equal(["KEYS[1]"], $"the {script.Name} script touches only its one key (a session hash or a user index)");
            script.Text.Should().NotContain("redis.call('KEYS'").And.NotContain("SCAN", $"the {script.Name} script never reaches keys it did not declare");
        }
    }

    [GeneratedRegex(@"KEYS\[[^\]]*\]")]
    private static partial Regex KeyReference();
}
