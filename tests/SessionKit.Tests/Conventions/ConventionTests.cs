using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace SessionKit.Tests.Conventions;

public sealed partial class ConventionTests
{
    private static readonly Assembly Library = typeof(SessionManager).Assembly;

    [Fact]
    public void PublicApi_MatchesTheApprovedFile()
    {
        var approvedPath = Path.Combine(RepositoryPaths.Root, "tests", "SessionKit.Tests", "PublicApi", "SessionKit.approved.txt");
        var actual = PublicApi.Render(Library);
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : string.Empty;

        if (actual != approved)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(approvedPath)!);
            File.WriteAllText(approvedPath.Replace(".approved.txt", ".received.txt", StringComparison.Ordinal), actual);
        }

        actual.Should().Be(approved, "the public API changed: review SessionKit.received.txt and, if intended, copy it over SessionKit.approved.txt");
    }

    [Fact]
    public void Source_NeverReadsTheWallClock()
    {
        var offenders = Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(static f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(static f => File.ReadLines(f).Select((line, i) => (File: f, Line: i + 1, Text: line)))
            .Where(static l => WallClock().IsMatch(l.Text))
            .Select(static l => $"{l.File}:{l.Line}: {l.Text.Trim()}")
            .ToList();

        offenders.Should().BeEmpty("time comes only from the injected TimeProvider");
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
    public void LogEventIds_AreUniqueAndInTheirRanges()
    {
        var events = Library.GetTypes()
            .SelectMany(static t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(static m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(static e => e.Attribute is not null)
            .ToList();

        events.Should().NotBeEmpty();
        events.Select(static e => e.Attribute!.EventId).Should().OnlyHaveUniqueItems();
        foreach (var (method, attribute) in events)
        {
            var owner = method.DeclaringType!.DeclaringType ?? method.DeclaringType;
            var range = owner!.Namespace == "SessionKit.Stores" ? (100, 199) : (1, 99);
            attribute!.EventId.Should().BeInRange(range.Item1, range.Item2, $"{owner!.Name}.{method.Name} belongs to that range");
        }
    }

    [Fact]
    public void Guards_CompareBindingDataOnlyInConstantTime()
    {
        var security = Path.Combine(RepositoryPaths.Root, "src", "SessionKit", "Security");
        var hashing = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "src", "SessionKit", "Internal", "BindingHash.cs"));

        hashing.Should().Contain("CryptographicOperations.FixedTimeEquals(");
        foreach (var guard in new[] { "CredentialBindingGuard.cs", "IdentityBindingGuard.cs", "ClientBindingGuard.cs" })
        {
            var source = File.ReadAllText(Path.Combine(security, guard));
            source.Should().Contain("FixedTimeEqualsBase64(", $"{guard} compares hashes through the constant-time helper");
            source.Should().NotContain("SequenceEqual").And.NotMatchRegex(@"(stored|Mac|mac|network|userAgent)\s*==\s*", $"{guard} never compares secrets with ==");
        }
    }

    private static bool IsAwaitable(Type type) =>
        type == typeof(Task) || type == typeof(ValueTask)
        || (type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(Task<>) || type.GetGenericTypeDefinition() == typeof(ValueTask<>)));

    [GeneratedRegex(@"\bDateTime(Offset)?\s*\.\s*(Utc)?Now\b")]
    private static partial Regex WallClock();
}
