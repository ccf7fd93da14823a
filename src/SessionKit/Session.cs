using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using SessionKit.Internal;

namespace SessionKit;

/// <summary>
/// An immutable snapshot of a session. Changes go through <see cref="ISessionManager"/> or
/// <see cref="ISessionStore"/> and come back as a new snapshot; nobody mutates a session object.
/// </summary>
/// <remarks>
/// <see cref="Id"/> is a credential: never log it, trace it or use it as a metric tag.
/// </remarks>
public sealed record Session
{
    private readonly IReadOnlyDictionary<string, string> _metadata = EmptyMetadata;
    private readonly IReadOnlyDictionary<string, JsonElement> _state = EmptyState;
    private readonly IReadOnlyDictionary<string, string> _binding = EmptyMetadata;
    private readonly string? _handle;

    internal static readonly IReadOnlyDictionary<string, string> EmptyMetadata = ReadOnlyMap<string>.Empty;
    internal static readonly IReadOnlyDictionary<string, JsonElement> EmptyState = ReadOnlyMap<JsonElement>.Empty;

    /// <summary>Gets the opaque session id (a credential).</summary>
    public required string Id { get; init; }

    /// <summary>
    /// Gets the session's handle: a non-secret name derived one-way from <see cref="Id"/> (see <see cref="Security.SessionHandles"/>)
    /// for logs, URLs and management. Listings carry the handle, never the id.
    /// </summary>
    public string Handle
    {
        get => _handle ?? Security.SessionHandles.FromId(Id);
        init => _handle = value;
    }

    /// <summary>Gets the optional owner (subject) of the session; indexed by every store.</summary>
    public string? UserId { get; init; }

    /// <summary>Gets the optional application-defined type tag (for example <c>sse</c> or <c>chat</c>).</summary>
    public string? Kind { get; init; }

    /// <summary>Gets when the session was created, by the manager's clock.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Gets when the session was last accessed (slid), by the manager's clock.</summary>
    public DateTimeOffset LastAccessedAt { get; init; }

    /// <summary>Gets the sliding idle window of this session.</summary>
    public TimeSpan IdleTimeout { get; init; }

    /// <summary>Gets the hard cap on the session's lifetime, never extended by use; <see langword="null"/> when none.</summary>
    public DateTimeOffset? AbsoluteExpiresAt { get; init; }

    /// <summary>
    /// Gets the effective expiry: the earlier of <see cref="LastAccessedAt"/> + <see cref="IdleTimeout"/>
    /// and <see cref="AbsoluteExpiresAt"/>.
    /// </summary>
    public DateTimeOffset ExpiresAt => ComputeExpiry(LastAccessedAt, IdleTimeout, AbsoluteExpiresAt);

    /// <summary>Gets the data version: 1 at creation, incremented by every data change (not by a plain touch).</summary>
    public long Version { get; init; }

    /// <summary>Gets small string facts about the session.</summary>
    public IReadOnlyDictionary<string, string> Metadata
    {
        get => _metadata;
        init => _metadata = Freeze(value);
    }

    /// <summary>Gets the session's JSON state values. Use <see cref="GetState{T}(string, JsonTypeInfo{T})"/> for typed access.</summary>
    public IReadOnlyDictionary<string, JsonElement> State
    {
        get => _state;
        init => _state = Freeze(value);
    }

    /// <summary>
    /// Gets the binding data written by hijack-prevention guards (hashes, salts, stable identities; never a raw
    /// credential). Stores persist it; the manager strips it from management listings.
    /// </summary>
    public IReadOnlyDictionary<string, string> Binding
    {
        get => _binding;
        init => _binding = Freeze(value);
    }

    /// <summary>
    /// The <see cref="Binding"/> key that marks a rotation forwarder: the record an id leaves behind when its session
    /// moves to a new id. Stores never change a forwarder (see <see cref="ISessionStore.UpdateAsync"/>).
    /// </summary>
    public const string ForwarderBindingKey = "sessionkit.rotated_to";

    /// <summary>Gets a value indicating whether this record is a rotation forwarder (its binding holds <see cref="ForwarderBindingKey"/>).</summary>
    internal bool IsForwarder => _binding.Count > 0 && _binding.ContainsKey(ForwarderBindingKey);

    /// <summary>Determines whether the session is live at <paramref name="now"/>.</summary>
    /// <param name="now">The instant to test, from the manager's clock.</param>
    /// <returns><see langword="true"/> when <see cref="ExpiresAt"/> is later than <paramref name="now"/>.</returns>
    public bool IsLiveAt(DateTimeOffset now) => ExpiresAt > now;

    /// <summary>Gets the size of <see cref="State"/> as counted against the state limit.</summary>
    /// <returns>The UTF-8 byte count of every state key plus its raw JSON value.</returns>
    public long GetStateSize() => SessionStateSize.Measure(_state);

    /// <summary>Reads a state value with source-generated (trim- and AOT-safe) metadata.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="key">The state key.</param>
    /// <param name="typeInfo">The JSON metadata for <typeparamref name="T"/>.</param>
    /// <returns>The value, or <see langword="default"/> when the key is absent.</returns>
    /// <exception cref="JsonException">The stored value does not deserialize as <typeparamref name="T"/>.</exception>
    public T? GetState<T>(string key, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(typeInfo);
        return _state.TryGetValue(key, out var element) ? element.Deserialize(typeInfo) : default;
    }

    /// <summary>Reads a state value with reflection-based System.Text.Json serialization.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="key">The state key.</param>
    /// <param name="options">Serializer options; <see langword="null"/> for <see cref="JsonSerializerOptions.Web"/>.</param>
    /// <returns>The value, or <see langword="default"/> when the key is absent.</returns>
    /// <exception cref="JsonException">The stored value does not deserialize as <typeparamref name="T"/>.</exception>
    public T? GetState<T>(string key, JsonSerializerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _state.TryGetValue(key, out var element) ? element.Deserialize<T>(options ?? JsonSerializerOptions.Web) : default;
    }

    /// <summary>Computes the effective expiry from its parts.</summary>
    /// <param name="lastAccessedAt">The last access.</param>
    /// <param name="idleTimeout">The idle window.</param>
    /// <param name="absoluteExpiresAt">The absolute cap, if any.</param>
    /// <returns>The earlier of the sliding expiry and the absolute cap.</returns>
    internal static DateTimeOffset ComputeExpiry(DateTimeOffset lastAccessedAt, TimeSpan idleTimeout, DateTimeOffset? absoluteExpiresAt)
    {
        var sliding = lastAccessedAt + idleTimeout;
        return absoluteExpiresAt is { } cap && cap < sliding ? cap : sliding;
    }

    /// <summary>Returns a description of the session that omits its id, state values and binding data.</summary>
    /// <returns>A log-safe description.</returns>
    public override string ToString() =>
        $"Session {{ Kind = {Kind}, CreatedAt = {CreatedAt:O}, ExpiresAt = {ExpiresAt:O}, Version = {Version}, Metadata = {Metadata.Count} keys, State = {State.Count} keys }}";

    // Snapshots own an immutable copy: a caller's dictionary mutated later cannot change a session.
    private static ReadOnlyMap<T> Freeze<T>(IReadOnlyDictionary<string, T>? value) => value switch
    {
        null or { Count: 0 } => ReadOnlyMap<T>.Empty,
        ReadOnlyMap<T> map => map,
        _ => ReadOnlyMap<T>.From(value),
    };
}
