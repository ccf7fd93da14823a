using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace SessionKit.Tests;

/// <summary>
/// The conventions every shipped package keeps: an approved public API, no wall clock in its source, the async
/// method shape, no public types in <c>.Internal</c> namespaces, and log events with unique ids in the package's
/// range that never take an id or key. Each test project runs it for its package through a small derived class.
/// </summary>
/// <remarks>
/// To approve a public API change, run the convention tests with <c>SESSIONKIT_APPROVE_API=1</c>: the test then
/// writes the generated text over <c>tests/&lt;Project&gt;/PublicApi/&lt;Package&gt;.approved.txt</c> (review
/// the diff before committing). Without it, a mismatch fails and writes <c>&lt;Package&gt;.received.txt</c>
/// beside the approved file (git-ignored), to diff or copy over by hand.
/// </remarks>
public abstract partial class PackageConventionTests
{
    /// <summary>The environment variable that makes <see cref="PublicApi_MatchesTheApprovedFile"/> write the approved file.</summary>
    public const string ApproveVariable = "SESSIONKIT_APPROVE_API";

    /// <summary>Gets the package's assembly.</summary>
    protected abstract Assembly Library { get; }

    /// <summary>Gets the folder under <c>tests/</c> of the test project that holds the approved file.</summary>
    protected abstract string TestProject { get; }

    /// <summary>Gets the fewest <see cref="LoggerMessageAttribute"/> methods the package is expected to declare.</summary>
    protected virtual int MinimumLogEvents => 1;

    private string PackageName => Library.GetName().Name!;

    /// <summary>Returns the event-id range reserved for log messages declared by <paramref name="owner"/>.</summary>
    /// <param name="owner">The type whose nested <c>Log</c> class declares the message.</param>
    /// <returns>The inclusive range.</returns>
    protected abstract (int Min, int Max) EventIdRange(Type owner);

    [Fact]
    public void PublicApi_MatchesTheApprovedFile()
    {
        var approvedPath = Path.Combine(RepositoryPaths.Root, "tests", TestProject, "PublicApi", PackageName + ".approved.txt");
        var receivedPath = Path.ChangeExtension(Path.ChangeExtension(approvedPath, null), ".received.txt");
        var actual = PublicApi.Render(Library);
        if (Environment.GetEnvironmentVariable(ApproveVariable) is "1" or "true")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(approvedPath)!);
            File.WriteAllText(approvedPath, actual);
        }

        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : string.Empty;
        if (actual != approved)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(approvedPath)!);
            File.WriteAllText(receivedPath, actual);
        }
        else
        {
            File.Delete(receivedPath);
        }

        actual.Should().Be(approved, $"the public API changed: review {PackageName}.received.txt and, if intended, rerun with {ApproveVariable}=1 (or copy it over {PackageName}.approved.txt)");
    }

    [Fact]
    public void Source_NeverReadsTheWallClock()
    {
        var offenders = Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "src", PackageName), "*.cs", SearchOption.AllDirectories)
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
        var events = LogEvents();

        events.Should().HaveCountGreaterThanOrEqualTo(MinimumLogEvents);
        events.Select(static e => e.Attribute.EventId).Should().OnlyHaveUniqueItems();
        foreach (var (method, attribute) in events)
        {
            var owner = method.DeclaringType!.DeclaringType ?? method.DeclaringType;
            var (min, max) = EventIdRange(owner!);
            attribute.EventId.Should().BeInRange(min, max, $"{owner!.Name}.{method.Name} belongs to that range");
        }
    }

    [Fact]
    public void LogEvents_NeverTakeAnId()
    {
        var events = LogEvents();

        events.Should().NotBeEmpty();
        foreach (var (method, attribute) in events)
        {
            attribute.Message.Should().NotMatchRegex(@"\{\w*Id\}", $"{method.Name} must not log an id");
            method.GetParameters().Select(static p => p.Name!).Should().NotContain(static n => n.EndsWith("id", StringComparison.OrdinalIgnoreCase) || n.Contains("key", StringComparison.OrdinalIgnoreCase));
        }
    }

    private List<(MethodInfo Method, LoggerMessageAttribute Attribute)> LogEvents() =>
        [.. Library.GetTypes()
            .SelectMany(static t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(static m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()!))
            .Where(static e => e.Attribute is not null)];

    private static bool IsAwaitable(Type type) =>
        type == typeof(Task) || type == typeof(ValueTask)
        || (type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(Task<>) || type.GetGenericTypeDefinition() == typeof(ValueTask<>)));

    [GeneratedRegex(@"\bDateTime(Offset)?\s*\.\s*(Utc)?Now\b")]
    private static partial Regex WallClock();
}
