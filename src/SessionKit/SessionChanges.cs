using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace SessionKit;

/// <summary>
/// A change set applied atomically to one session: per-key sets and removals of <see cref="Session.Metadata"/>,
/// <see cref="Session.State"/> and <see cref="Session.Binding"/>, an optional new <see cref="Session.UserId"/> or
/// <see cref="Session.Kind"/>, and an optional expected version for compare-and-set.
/// </summary>
/// <remarks>
/// Keys not named in the change set keep whatever value they have in the store at the moment the change is applied,
/// so concurrent changes to disjoint keys never overwrite each other. Values are serialized when they are added, so
/// an unserializable value throws here, before anything reaches a store.
/// </remarks>
public sealed class SessionChanges
{
    private Dictionary<string, string?>? _metadata;
    private Dictionary<string, JsonElement?>? _state;
    private Dictionary<string, string?>? _binding;
    private string? _userId;
    private string? _kind;

    /// <summary>Gets or sets the version the session must have for the change to apply; <see langword="null"/> applies it unconditionally.</summary>
    /// <value>Default <see langword="null"/>.</value>
    public long? ExpectedVersion { get; set; }

    /// <summary>Gets the metadata changes: a <see langword="null"/> value removes the key.</summary>
    public IReadOnlyDictionary<string, string?> MetadataChanges => (IReadOnlyDictionary<string, string?>?)_metadata ?? EmptyStrings;

    /// <summary>Gets the state changes: a <see langword="null"/> value removes the key.</summary>
    public IReadOnlyDictionary<string, JsonElement?> StateChanges => (IReadOnlyDictionary<string, JsonElement?>?)_state ?? EmptyElements;

    /// <summary>Gets the binding-data changes: a <see langword="null"/> value removes the key.</summary>
    public IReadOnlyDictionary<string, string?> BindingChanges => (IReadOnlyDictionary<string, string?>?)_binding ?? EmptyStrings;

    /// <summary>Gets a value indicating whether <see cref="UserId"/> is changed by this change set.</summary>
    public bool ChangesUserId { get; private set; }

    /// <summary>Gets the new owner when <see cref="ChangesUserId"/> is <see langword="true"/> (<see langword="null"/> clears it).</summary>
    public string? UserId => _userId;

    /// <summary>Gets a value indicating whether <see cref="Kind"/> is changed by this change set.</summary>
    public bool ChangesKind { get; private set; }

    /// <summary>Gets the new kind when <see cref="ChangesKind"/> is <see langword="true"/> (<see langword="null"/> clears it).</summary>
    public string? Kind => _kind;

    /// <summary>Gets a value indicating whether the change set changes nothing.</summary>
    public bool IsEmpty => _metadata is null && _state is null && _binding is null && !ChangesUserId && !ChangesKind && AbsoluteExpiryCap is null;

    /// <summary>
    /// Gets the latest absolute expiry the session may keep, or <see langword="null"/> to leave it: the store sets
    /// <see cref="Session.AbsoluteExpiresAt"/> to the earlier of its current value and this one (a cap never extends a session).
    /// </summary>
    public DateTimeOffset? AbsoluteExpiryCap { get; private set; }

    private static readonly IReadOnlyDictionary<string, string?> EmptyStrings = new Dictionary<string, string?>();
    private static readonly IReadOnlyDictionary<string, JsonElement?> EmptyElements = new Dictionary<string, JsonElement?>();

    /// <summary>Sets a metadata entry.</summary>
    /// <param name="key">The key; not empty.</param>
    /// <param name="value">The value.</param>
    /// <returns>This change set.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is null, empty or white space, or <paramref name="value"/> is null.</exception>
    public SessionChanges SetMetadata(string key, string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        ArgumentNullException.ThrowIfNull(value);
        (_metadata ??= new(StringComparer.Ordinal))[key] = value;
        return this;
    }

    /// <summary>Removes a metadata entry (no effect when absent).</summary>
    /// <param name="key">The key.</param>
    /// <returns>This change set.</returns>
    public SessionChanges RemoveMetadata(string key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        (_metadata ??= new(StringComparer.Ordinal))[key] = null;
        return this;
    }

    /// <summary>Sets a state entry to a JSON value.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The JSON value.</param>
    /// <returns>This change set.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is null, empty or white space, or <paramref name="value"/> is undefined.</exception>
    public SessionChanges SetState(string key, JsonElement value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        if (value.ValueKind == JsonValueKind.Undefined)
        {
            throw new ArgumentException("The state value is an undefined JsonElement.", nameof(value));
        }

        (_state ??= new(StringComparer.Ordinal))[key] = value.Clone();
        return this;
    }

    /// <summary>Sets a state entry, serializing it with source-generated (trim- and AOT-safe) metadata.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="typeInfo">JSON metadata for <typeparamref name="T"/>.</param>
    /// <returns>This change set.</returns>
    /// <exception cref="ArgumentException">The key is invalid or the value cannot be serialized.</exception>
    public SessionChanges SetState<T>(string key, T value, JsonTypeInfo<T> typeInfo)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        ArgumentNullException.ThrowIfNull(typeInfo);
        return SetSerialized(key, nameof(value), () => JsonSerializer.SerializeToElement(value, typeInfo));
    }

    /// <summary>Sets a state entry, serializing it with reflection-based System.Text.Json.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="options">Serializer options; <see langword="null"/> for <see cref="JsonSerializerOptions.Web"/>.</param>
    /// <returns>This change set.</returns>
    /// <exception cref="ArgumentException">The key is invalid or the value cannot be serialized.</exception>
    public SessionChanges SetState<T>(string key, T value, JsonSerializerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        return SetSerialized(key, nameof(value), () => JsonSerializer.SerializeToElement(value, options ?? JsonSerializerOptions.Web));
    }

    /// <summary>Removes a state entry (no effect when absent).</summary>
    /// <param name="key">The key.</param>
    /// <returns>This change set.</returns>
    public SessionChanges RemoveState(string key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        (_state ??= new(StringComparer.Ordinal))[key] = null;
        return this;
    }

    /// <summary>Sets a binding-data entry. Intended for hijack-prevention guards.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value (a hash, salt or stable identity — never a raw credential).</param>
    /// <returns>This change set.</returns>
    public SessionChanges SetBinding(string key, string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        ArgumentNullException.ThrowIfNull(value);
        (_binding ??= new(StringComparer.Ordinal))[key] = value;
        return this;
    }

    /// <summary>Removes a binding-data entry (no effect when absent).</summary>
    /// <param name="key">The key.</param>
    /// <returns>This change set.</returns>
    public SessionChanges RemoveBinding(string key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        (_binding ??= new(StringComparer.Ordinal))[key] = null;
        return this;
    }

    /// <summary>Sets or clears the session's owner.</summary>
    /// <param name="userId">The new owner, or <see langword="null"/> to clear it; not empty or white space.</param>
    /// <returns>This change set.</returns>
    public SessionChanges SetUserId(string? userId)
    {
        if (userId is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        }

        _userId = userId;
        ChangesUserId = true;
        return this;
    }

    /// <summary>Caps the session's absolute expiry: it ends no later than <paramref name="expiresBy"/> (earlier if it already would).</summary>
    /// <param name="expiresBy">The latest the session may live until.</param>
    /// <returns>This change set.</returns>
    public SessionChanges CapAbsoluteExpiry(DateTimeOffset expiresBy)
    {
        AbsoluteExpiryCap = AbsoluteExpiryCap is { } cap && cap < expiresBy ? cap : expiresBy;
        return this;
    }

    /// <summary>Sets or clears the session's kind.</summary>
    /// <param name="kind">The new kind, or <see langword="null"/> to clear it; not empty or white space.</param>
    /// <returns>This change set.</returns>
    public SessionChanges SetKind(string? kind)
    {
        if (kind is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        }

        _kind = kind;
        ChangesKind = true;
        return this;
    }

    /// <summary>
    /// Applies this change set to a snapshot and checks the result's state size: the one merge the in-process stores
    /// share, so they merge alike.
    /// </summary>
    /// <param name="current">The current snapshot (live, version already checked).</param>
    /// <param name="now">The access time; <see cref="Session.LastAccessedAt"/> never moves backwards.</param>
    /// <param name="maxStateBytes">The largest state the result may have.</param>
    /// <returns>The new snapshot, with <see cref="Session.Version"/> incremented.</returns>
    /// <exception cref="SessionStateTooLargeException">The merged state exceeds <paramref name="maxStateBytes"/>.</exception>
    internal Session ApplyWithinLimit(Session current, DateTimeOffset now, long maxStateBytes)
    {
        var updated = ApplyTo(current, now);
        if (_state is not null)
        {
            var size = updated.GetStateSize();
            if (size > maxStateBytes)
            {
                throw new SessionStateTooLargeException(size, maxStateBytes);
            }
        }

        return updated;
    }

    /// <summary>Applies this change set to a snapshot.</summary>
    /// <param name="current">The current snapshot (live, version already checked).</param>
    /// <param name="now">The access time; <see cref="Session.LastAccessedAt"/> never moves backwards.</param>
    /// <returns>The new snapshot, with <see cref="Session.Version"/> incremented.</returns>
    internal Session ApplyTo(Session current, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(current);
        return current with
        {
            UserId = ChangesUserId ? _userId : current.UserId,
            Kind = ChangesKind ? _kind : current.Kind,
            AbsoluteExpiresAt = AbsoluteExpiryCap is { } cap && (current.AbsoluteExpiresAt is not { } existing || cap < existing) ? cap : current.AbsoluteExpiresAt,
            LastAccessedAt = now > current.LastAccessedAt ? now : current.LastAccessedAt,
            Version = current.Version + 1,
            Metadata = Merge(current.Metadata, _metadata),
            State = Merge(current.State, _state),
            Binding = Merge(current.Binding, _binding),
        };
    }

    /// <summary>Copies this change set with another expected version (the copy shares the change dictionaries; neither is changed afterwards).</summary>
    /// <param name="version">The version the copy expects.</param>
    /// <returns>The copy.</returns>
    internal SessionChanges WithExpectedVersion(long version)
    {
        var copy = (SessionChanges)MemberwiseClone();
        copy.ExpectedVersion = version;
        return copy;
    }

    private SessionChanges SetSerialized(string key, string paramName, Func<JsonElement> serialize)
    {
        JsonElement element;
        try
        {
            element = serialize();
        }
        catch (Exception ex) when (ex is NotSupportedException or JsonException or InvalidOperationException)
        {
            throw new ArgumentException($"The value for state key '{key}' cannot be serialized to JSON: {ex.Message}", paramName, ex);
        }

        (_state ??= new(StringComparer.Ordinal))[key] = element;
        return this;
    }

    private static IReadOnlyDictionary<string, string> Merge(IReadOnlyDictionary<string, string> current, Dictionary<string, string?>? changes)
    {
        if (changes is null)
        {
            return current;
        }

        var merged = new Dictionary<string, string>(current, StringComparer.Ordinal);
        foreach (var (key, value) in changes)
        {
            if (value is null)
            {
                merged.Remove(key);
            }
            else
            {
                merged[key] = value;
            }
        }

        return merged;
    }

    private static IReadOnlyDictionary<string, JsonElement> Merge(IReadOnlyDictionary<string, JsonElement> current, Dictionary<string, JsonElement?>? changes)
    {
        if (changes is null)
        {
            return current;
        }

        var merged = new Dictionary<string, JsonElement>(current, StringComparer.Ordinal);
        foreach (var (key, value) in changes)
        {
            if (value is { } element)
            {
                merged[key] = element;
            }
            else
            {
                merged.Remove(key);
            }
        }

        return merged;
    }
}
