using System.Text.Json;
using System.Text.Json.Serialization;

namespace SessionKit.Internal;

/// <summary>The stored shape of a session: flat, explicit, versioned.</summary>
internal sealed class SessionDocument
{
    [JsonPropertyName("v")]
    public int FormatVersion { get; set; }

    [JsonPropertyName("id")]
    public string? Id { get; set; }

    [JsonPropertyName("userId")]
    public string? UserId { get; set; }

    [JsonPropertyName("kind")]
    public string? Kind { get; set; }

    [JsonPropertyName("createdAt")]
    public DateTimeOffset CreatedAt { get; set; }

    [JsonPropertyName("lastAccessedAt")]
    public DateTimeOffset LastAccessedAt { get; set; }

    [JsonPropertyName("idleTimeoutTicks")]
    public long IdleTimeoutTicks { get; set; }

    [JsonPropertyName("absoluteExpiresAt")]
    public DateTimeOffset? AbsoluteExpiresAt { get; set; }

    [JsonPropertyName("version")]
    public long Version { get; set; }

    [JsonPropertyName("metadata")]
    public Dictionary<string, string>? Metadata { get; set; }

    [JsonPropertyName("state")]
    public Dictionary<string, JsonElement>? State { get; set; }

    [JsonPropertyName("binding")]
    public Dictionary<string, string>? Binding { get; set; }

    public static SessionDocument From(Session session) => new()
    {
        FormatVersion = SessionSerializer.FormatVersion,
        Id = session.Id,
        UserId = session.UserId,
        Kind = session.Kind,
        CreatedAt = session.CreatedAt,
        LastAccessedAt = session.LastAccessedAt,
        IdleTimeoutTicks = session.IdleTimeout.Ticks,
        AbsoluteExpiresAt = session.AbsoluteExpiresAt,
        Version = session.Version,
        Metadata = session.Metadata.Count == 0 ? null : new(session.Metadata, StringComparer.Ordinal),
        State = session.State.Count == 0 ? null : new(session.State, StringComparer.Ordinal),
        Binding = session.Binding.Count == 0 ? null : new(session.Binding, StringComparer.Ordinal),
    };

    public Session ToSession()
    {
        if (FormatVersion <= 0)
        {
            throw new SessionFormatException("The session document has no format version; it was not written by SessionKit.");
        }

        if (FormatVersion > SessionSerializer.FormatVersion)
        {
            throw new SessionFormatException(
                $"The session document has format version {FormatVersion}; this release reads up to {SessionSerializer.FormatVersion}.");
        }

        if (string.IsNullOrEmpty(Id) || IdleTimeoutTicks <= 0 || Version <= 0 || CreatedAt == default || LastAccessedAt == default)
        {
            throw new SessionFormatException("The session document is incomplete (id, timestamps, idle timeout or version missing).");
        }

        if (State is not null && State.Values.Any(static v => v.ValueKind == JsonValueKind.Undefined))
        {
            throw new SessionFormatException("The session document has an undefined state value.");
        }

        return new Session
        {
            Id = Id,
            UserId = UserId,
            Kind = Kind,
            CreatedAt = CreatedAt,
            LastAccessedAt = LastAccessedAt,
            IdleTimeout = TimeSpan.FromTicks(IdleTimeoutTicks),
            AbsoluteExpiresAt = AbsoluteExpiresAt,
            Version = Version,
            Metadata = Metadata!,
            State = State!,
            Binding = Binding!,
        };
    }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SessionDocument))]
internal sealed partial class SessionJsonContext : JsonSerializerContext;
