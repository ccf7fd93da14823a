namespace SessionKit.Internal;

/// <summary>
/// Refuses text that is not well-formed UTF-16 (a lone surrogate). Such text has no UTF-8 form, so a store that
/// encodes it (Redis, JSON files) would replace it silently and merge distinct keys; every store refuses it instead.
/// </summary>
internal static class WellFormedText
{
    public static bool IsWellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (!char.IsSurrogate(c))
            {
                continue;
            }

            if (!char.IsHighSurrogate(c) || i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
            {
                return false;
            }

            i++;
        }

        return true;
    }

    /// <summary>Checks every string a session carries (ids excepted: stores treat those as opaque keys).</summary>
    /// <exception cref="ArgumentException">A user id, kind, key or value holds a lone surrogate.</exception>
    public static void ThrowIfIllFormed(Session session, string paramName)
    {
        Check(session.UserId, "UserId", paramName);
        Check(session.Kind, "Kind", paramName);
        CheckStored(session.Metadata, "Metadata", paramName);
        CheckStored(session.Binding, "Binding", paramName);
        foreach (var key in session.State.Keys)
        {
            Check(key, "a State key", paramName);
        }
    }

    /// <summary>Checks every string a change set would write.</summary>
    /// <exception cref="ArgumentException">A user id, kind, key or value holds a lone surrogate.</exception>
    public static void ThrowIfIllFormed(SessionChanges changes, string paramName)
    {
        Check(changes.UserId, "UserId", paramName);
        Check(changes.Kind, "Kind", paramName);
        CheckPairs(changes.MetadataChanges, "Metadata", paramName);
        CheckPairs(changes.BindingChanges, "Binding", paramName);
        foreach (var key in changes.StateChanges.Keys)
        {
            Check(key, "a State key", paramName);
        }
    }

    private static void CheckPairs(IEnumerable<KeyValuePair<string, string?>> pairs, string what, string paramName)
    {
        foreach (var (key, value) in pairs)
        {
            Check(key, $"a {what} key", paramName);
            Check(value, $"a {what} value", paramName);
        }
    }

    private static void CheckStored(IReadOnlyDictionary<string, string> pairs, string what, string paramName)
    {
        foreach (var (key, value) in pairs)
        {
            Check(key, $"a {what} key", paramName);
            Check(value, $"a {what} value", paramName);
        }
    }

    private static void Check(string? text, string what, string paramName)
    {
        if (text is not null && !IsWellFormed(text))
        {
            throw new ArgumentException($"{what} is not well-formed UTF-16 (it holds a lone surrogate); stores cannot keep it exactly.", paramName);
        }
    }
}
