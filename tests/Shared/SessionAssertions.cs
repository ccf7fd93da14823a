using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using FluentAssertions.Execution;

namespace SessionKit.Tests;

/// <summary>
/// Compares <see cref="Session"/> snapshots field by field. <see cref="Session"/> is a record, but its dictionaries
/// compare by reference and <see cref="JsonElement"/> has no value equality, so record equality says nothing useful
/// about two snapshots read from a store.
/// </summary>
public static class SessionAssertions
{
    private static readonly JsonSerializerOptions _readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Asserts that <paramref name="actual"/> equals <paramref name="expected"/> in every field.</summary>
    /// <param name="actual">The snapshot under test.</param>
    /// <param name="expected">The snapshot it must equal.</param>
    /// <param name="because">Why, for the failure message.</param>
    /// <remarks>
    /// Timestamps compare as instants (the offset is ignored), state values by their raw JSON text, dictionaries by
    /// ordinal key and value, ignoring order.
    /// </remarks>
    public static void ShouldEqualSnapshot(this Session? actual, Session expected, string because = "")
    {
        ArgumentNullException.ThrowIfNull(expected);
        actual.Should().NotBeNull(because);
        var differences = Differences(expected, actual!);
        Execute.Assertion
            .BecauseOf(because)
            .ForCondition(differences.Count == 0)
            .FailWith("Expected the session snapshot to equal the expected one in every field{reason}, but it differs in:{0}", new RawText(string.Concat(differences.Select(static d => Environment.NewLine + "  - " + d))));
    }

    /// <summary>Lists every field in which two snapshots differ, as readable lines.</summary>
    /// <param name="expected">The expected snapshot.</param>
    /// <param name="actual">The actual snapshot.</param>
    /// <returns>One line per difference; empty when the snapshots are equal.</returns>
    public static IReadOnlyList<string> Differences(Session expected, Session actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        var differences = new List<string>();
        Compare(differences, nameof(Session.Id), expected.Id, actual.Id);
        Compare(differences, nameof(Session.UserId), expected.UserId, actual.UserId);
        Compare(differences, nameof(Session.Kind), expected.Kind, actual.Kind);
        Compare(differences, nameof(Session.CreatedAt), expected.CreatedAt, actual.CreatedAt);
        Compare(differences, nameof(Session.LastAccessedAt), expected.LastAccessedAt, actual.LastAccessedAt);
        Compare(differences, nameof(Session.IdleTimeout), expected.IdleTimeout, actual.IdleTimeout);
        Compare(differences, nameof(Session.AbsoluteExpiresAt), expected.AbsoluteExpiresAt, actual.AbsoluteExpiresAt);
        Compare(differences, nameof(Session.ExpiresAt), expected.ExpiresAt, actual.ExpiresAt);
        Compare(differences, nameof(Session.Version), expected.Version, actual.Version);
        CompareDictionaries(differences, nameof(Session.Metadata), expected.Metadata, actual.Metadata, static v => v);
        CompareDictionaries(differences, nameof(Session.State), expected.State, actual.State, static v => v.GetRawText());
        CompareDictionaries(differences, nameof(Session.Binding), expected.Binding, actual.Binding, static v => v);
        return differences;
    }

    /// <summary>Gets the raw JSON text of a state value, or <see langword="null"/> when the key is absent.</summary>
    /// <param name="session">The snapshot.</param>
    /// <param name="key">The state key.</param>
    /// <returns>The raw JSON text.</returns>
    public static string? StateText(this Session session, string key)
    {
        ArgumentNullException.ThrowIfNull(session);
        return session.State.TryGetValue(key, out var value) ? value.GetRawText() : null;
    }

    /// <summary>Serializes a value to a standalone <see cref="JsonElement"/> in System.Text.Json's canonical form.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="value">The value.</param>
    /// <returns>The element; its raw text is what any System.Text.Json writer would produce for it.</returns>
    /// <remarks>
    /// Canonical (compact, default-escaped) elements survive a serialize/parse round trip with their raw text
    /// unchanged, so stores that re-serialize state can be compared by raw text.
    /// </remarks>
    public static JsonElement Json<T>(T value) => JsonSerializer.SerializeToElement(value);

    private static void Compare<T>(List<string> differences, string field, T expected, T actual)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual))
        {
            differences.Add(string.Create(CultureInfo.InvariantCulture, $"{field}: expected {Format(expected)} but was {Format(actual)}"));
        }
    }

    private static void CompareDictionaries<T>(
        List<string> differences,
        string field,
        IReadOnlyDictionary<string, T> expected,
        IReadOnlyDictionary<string, T> actual,
        Func<T, string> text)
    {
        foreach (var (key, value) in expected)
        {
            if (!actual.TryGetValue(key, out var actualValue))
            {
                differences.Add($"{field}[{Quote(key)}]: expected {Quote(text(value))} but the key is missing");
            }
            else if (!string.Equals(text(value), text(actualValue), StringComparison.Ordinal))
            {
                differences.Add($"{field}[{Quote(key)}]: expected {Quote(text(value))} but was {Quote(text(actualValue))}");
            }
        }

        foreach (var (key, value) in actual)
        {
            if (!expected.ContainsKey(key))
            {
                differences.Add($"{field}[{Quote(key)}]: unexpected key with value {Quote(text(value))}");
            }
        }
    }

    private static string Format<T>(T value) => value switch
    {
        null => "<null>",
        string s => Quote(s),
        DateTimeOffset d => d.ToString("O", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    // Long or hostile values (1 KB ids, NUL characters) stay readable in a failure message.
    private static string Quote(string value)
    {
        var encoded = JsonSerializer.Serialize(value, _readable);
        return encoded.Length <= 200 ? encoded : string.Concat(encoded.AsSpan(0, 200), "…\" (", value.Length.ToString(CultureInfo.InvariantCulture), " chars)");
    }

    // Formatted by FluentAssertions as-is (no quotes), so the difference list reads as lines.
    private sealed class RawText(string text)
    {
        public override string ToString() => text;
    }
}
