using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace SessionKit;

/// <summary>Per-session settings and initial data for <see cref="ISessionManager.CreateAsync"/>.</summary>
public sealed class SessionCreateOptions
{
    private readonly SessionChanges _data = new();

    /// <summary>Gets or sets the owner of the new session.</summary>
    public string? UserId { get; set; }

    /// <summary>Gets or sets the application-defined kind of the new session.</summary>
    public string? Kind { get; set; }

    /// <summary>Gets or sets the idle window for this session; <see langword="null"/> for <see cref="SessionKitOptions.IdleTimeout"/>.</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>
    /// Gets or sets the absolute lifetime cap for this session; <see langword="null"/> for
    /// <see cref="SessionKitOptions.AbsoluteTimeout"/>. <see cref="Timeout.InfiniteTimeSpan"/> disables the cap for this session.
    /// </summary>
    public TimeSpan? AbsoluteTimeout { get; set; }

    /// <summary>Gets or sets what the creating caller presented; every guard binds the new session to it.</summary>
    /// <value>Default <see langword="null"/>: nothing presented (an anonymous session).</value>
    public SessionAccessContext? Access { get; set; }

    /// <summary>Gets the initial data as a change set (metadata, state and binding entries).</summary>
    public SessionChanges Data => _data;

    /// <summary>Adds an initial metadata entry.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <returns>These options.</returns>
    public SessionCreateOptions WithMetadata(string key, string value)
    {
        _data.SetMetadata(key, value);
        return this;
    }

    /// <summary>Adds an initial state entry, serialized with reflection-based System.Text.Json.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="options">Serializer options; <see langword="null"/> for <see cref="JsonSerializerOptions.Web"/>.</param>
    /// <returns>These options.</returns>
    public SessionCreateOptions WithState<T>(string key, T value, JsonSerializerOptions? options = null)
    {
        _data.SetState(key, value, options);
        return this;
    }

    /// <summary>Adds an initial state entry, serialized with source-generated metadata.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="typeInfo">JSON metadata for <typeparamref name="T"/>.</param>
    /// <returns>These options.</returns>
    public SessionCreateOptions WithState<T>(string key, T value, JsonTypeInfo<T> typeInfo)
    {
        _data.SetState(key, value, typeInfo);
        return this;
    }
}
