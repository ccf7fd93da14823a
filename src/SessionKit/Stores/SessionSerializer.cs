using System.Text.Json;
using SessionKit.Internal;

namespace SessionKit;

/// <summary>
/// Serializes sessions to and from the versioned JSON document every built-in store writes. Custom stores can use
/// it so their data stays readable across releases.
/// </summary>
public static class SessionSerializer
{
    /// <summary>The format version written by this release. Documents with a higher version are refused.</summary>
    public const int FormatVersion = 1;

    /// <summary>Serializes a session to UTF-8 JSON.</summary>
    /// <param name="session">The session.</param>
    /// <returns>The UTF-8 JSON document.</returns>
    public static byte[] SerializeToUtf8Bytes(Session session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return JsonSerializer.SerializeToUtf8Bytes(SessionDocument.From(session), SessionJsonContext.Default.SessionDocument);
    }

    /// <summary>Serializes a session to a UTF-8 JSON stream.</summary>
    /// <param name="session">The session.</param>
    /// <param name="utf8Json">The destination.</param>
    public static void Serialize(Session session, Stream utf8Json)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(utf8Json);
        JsonSerializer.Serialize(utf8Json, SessionDocument.From(session), SessionJsonContext.Default.SessionDocument);
    }

    /// <summary>Deserializes a session document.</summary>
    /// <param name="utf8Json">The UTF-8 JSON document.</param>
    /// <returns>The session.</returns>
    /// <exception cref="SessionFormatException">The document is malformed, truncated, incomplete, or of a future format version.</exception>
    public static Session Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        SessionDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(utf8Json, SessionJsonContext.Default.SessionDocument);
        }
        catch (JsonException ex)
        {
            throw new SessionFormatException("The session document is not valid JSON.", ex);
        }

        if (document is null)
        {
            throw new SessionFormatException("The session document is empty (JSON null).");
        }

        return document.ToSession();
    }
}
