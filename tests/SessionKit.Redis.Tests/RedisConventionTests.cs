using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using SessionKit.Redis;

namespace SessionKit.Tests;

/// <summary>Conventions of the SessionKit.Redis assembly: approved public API, async shape, log event ids 200–299 without ids, single-key scripts.</summary>
public sealed partial class RedisConventionTests
{
    private static readonly Assembly Library = typeof(RedisSessionStore).Assembly;

    [Fact]
    public void PublicApi_MatchesTheApprovedFile()
    {
        var approvedPath = Path.Combine(RepositoryPaths.Root, "tests", "SessionKit.Redis.Tests", "PublicApi", "SessionKit.Redis.approved.txt");
        var actual = PublicApi.Render(Library);
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : string.Empty;

        if (actual != approved)
        {
            File.WriteAllText(approvedPath.Replace(".approved.txt", ".received.txt", StringComparison.Ordinal), actual);
        }

        actual.Should().Be(approved, "the public API changed: review SessionKit.Redis.received.txt and, if intended, copy it over SessionKit.Redis.approved.txt");
    }

    [Fact]
    public void PublicAsyncMethods_EndWithAsyncAndTakeACancellationTokenLast()
    {
        var offenders = Library.GetExportedTypes()
            .SelectMany(static t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(static m => IsAwaitable(m.ReturnType) && m.Name is not "DisposeAsync")
            .Where(static m => !m.Name.EndsWith("Async", StringComparison.Ordinal)
                || m.GetParameters() is not [.., { ParameterType: var last }] || last != typeof(CancellationToken))
            .Select(static m => $"{m.DeclaringType!.Name}.{m.Name}")
            .ToList();

        offenders.Should().BeEmpty();
    }

    [Fact]
    public void InternalNamespace_HasNoPublicTypes()
    {
        Library.GetExportedTypes().Where(static t => t.Namespace?.EndsWith(".Internal", StringComparison.Ordinal) == true).Should().BeEmpty();
    }

    [Fact]
    public void LogEvents_AreUniqueIn200To299_AndNeverTakeAnId()
    {
        var events = Library.GetTypes()
            .SelectMany(static t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(static m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(static e => e.Attribute is not null)
            .ToList();

        events.Should().HaveCountGreaterThan(3);
        events.Select(static e => e.Attribute!.EventId).Should().OnlyHaveUniqueItems();
        foreach (var (method, attribute) in events)
        {
            attribute!.EventId.Should().BeInRange(200, 299, $"{method.Name} is a Redis store event");
            attribute.Message.Should().NotMatchRegex(@"\{\w*Id\}", $"{method.Name} must not log an id");
            method.GetParameters().Select(static p => p.Name!).Should().NotContain(static n => n.EndsWith("id", StringComparison.OrdinalIgnoreCase) || n.Contains("key", StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public void EveryScript_ReferencesOnlyItsOneDeclaredKey()
    {
        RedisSessionStore.Scripts.All.Should().HaveCount(5);
        foreach (var script in RedisSessionStore.Scripts.All)
        {
            KeyReference().Matches(script.Text).Select(static m => m.Value).Distinct().Should().Equal(["KEYS[1]"], $"the {script.Name} script touches only the session hash");
            script.Text.Should().NotContain("redis.call('KEYS'").And.NotContain("SCAN", $"the {script.Name} script never reaches keys it did not declare");
        }
    }

    private static bool IsAwaitable(Type type) =>
        type == typeof(Task) || type == typeof(ValueTask)
        || (type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(Task<>) || type.GetGenericTypeDefinition() == typeof(ValueTask<>)));

    [GeneratedRegex(@"KEYS\[[^\]]*\]")]
    private static partial Regex KeyReference();
}
