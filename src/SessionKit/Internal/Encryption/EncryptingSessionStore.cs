using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace SessionKit.Internal.Encryption;

/// <summary>
/// Encryption at rest as a store decorator: seals every metadata and state value the manager writes (creates and the
/// set values of change sets) and opens every value of every snapshot the store returns. Keys, binding data, the user
/// id and the kind pass through in clear, so the inner store still merges per key, atomically.
/// </summary>
/// <remarks>
/// <para>A value without the sealed prefix was written before encryption was turned on and reads as is.</para>
/// <para>A value that does not open (unknown key id, failed authentication, malformed) fails the point reads that
/// hand values to the application — <see cref="GetAsync"/> and <see cref="UpdateAsync"/> — with
/// <see cref="SessionFormatException"/>. Operations over records already removed or over many records
/// (<see cref="DeleteAsync"/>, <see cref="QueryAsync"/>, <see cref="RemoveExpiredAsync"/>) drop such a value from
/// the snapshot instead, so one foreign record cannot break a logout, a listing, a per-user limit or a sweep.</para>
/// </remarks>
internal sealed class EncryptingSessionStore(ISessionStore inner, SessionValueSealer sealer) : ISessionStore, IDisposable
{
    private static readonly byte[] SealedJsonStart = Encoding.UTF8.GetBytes("\"" + SessionValueSealer.Prefix);

    public ISessionStore Inner { get; } = inner;

    public string Name => Inner.Name;

    public ValueTask<bool> CreateAsync(Session session, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (session.Metadata.Count == 0 && session.State.Count == 0)
        {
            return Inner.CreateAsync(session, now, cancellationToken);
        }

        var handle = session.Handle;
        var metadata = new Dictionary<string, string>(session.Metadata.Count, StringComparer.Ordinal);
        foreach (var (key, value) in session.Metadata)
        {
            metadata[key] = SealMetadata(handle, key, value);
        }

        var state = new Dictionary<string, JsonElement>(session.State.Count, StringComparer.Ordinal);
        foreach (var (key, value) in session.State)
        {
            state[key] = SealState(handle, key, value);
        }

        return Inner.CreateAsync(session with { Metadata = metadata, State = state }, now, cancellationToken);
    }

    public ValueTask<Session?> GetAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var pending = Inner.GetAsync(id, now, cancellationToken);
        if (!pending.IsCompletedSuccessfully)
        {
            return OpenAsync(pending, strict: true);
        }

        try
        {
            return new(Open(pending.Result, strict: true));
        }
        catch (SessionFormatException ex)
        {
            return ValueTask.FromException<Session?>(ex);
        }
    }

    public ValueTask<bool> TouchAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        Inner.TouchAsync(id, now, cancellationToken);

    public async ValueTask<SessionUpdateResult> UpdateAsync(string id, SessionChanges changes, DateTimeOffset now, long maxStateBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(changes);
        var result = await Inner.UpdateAsync(id, Seal(id, changes), now, maxStateBytes, cancellationToken).ConfigureAwait(false);
        return result.Status switch
        {
            SessionUpdateStatus.Updated => SessionUpdateResult.Updated(Open(result.Session, strict: true)!),
            SessionUpdateStatus.Forwarded => SessionUpdateResult.Forwarded(Open(result.Session, strict: true)!),
            _ => result,
        };
    }

    public async ValueTask<Session?> DeleteAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        Open(await Inner.DeleteAsync(id, now, cancellationToken).ConfigureAwait(false), strict: false);

    public ValueTask<bool> ExistsAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        Inner.ExistsAsync(id, now, cancellationToken);

    public async ValueTask<SessionPage> QueryAsync(SessionQuery query, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var page = await Inner.QueryAsync(query, now, cancellationToken).ConfigureAwait(false);
        return page with { Sessions = OpenAll(page.Sessions) };
    }

    public async ValueTask<IReadOnlyList<Session>> RemoveExpiredAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken = default) =>
        OpenAll(await Inner.RemoveExpiredAsync(now, maxCount, cancellationToken).ConfigureAwait(false));

    /// <summary>Releases the sealer's ciphers (the inner store belongs to the caller).</summary>
    public void Dispose() => sealer.Dispose();

    /// <summary>Builds the change set the store sees: the same change with every set metadata and state value sealed.</summary>
    private SessionChanges Seal(string id, SessionChanges changes)
    {
        var metadataChanges = changes.MetadataChanges;
        var stateChanges = changes.StateChanges;
        if (!metadataChanges.Values.Any(static v => v is not null) && !stateChanges.Values.Any(static v => v is not null))
        {
            return changes;
        }

        var handle = Security.SessionHandles.FromId(id);
        var sealedChanges = new SessionChanges { ExpectedVersion = changes.ExpectedVersion };
        foreach (var (key, value) in metadataChanges)
        {
            _ = value is null ? sealedChanges.RemoveMetadata(key) : sealedChanges.SetMetadata(key, SealMetadata(handle, key, value));
        }

        foreach (var (key, value) in stateChanges)
        {
            _ = value is { } element ? sealedChanges.SetState(key, SealState(handle, key, element)) : sealedChanges.RemoveState(key);
        }

        foreach (var (key, value) in changes.BindingChanges)
        {
            _ = value is null ? sealedChanges.RemoveBinding(key) : sealedChanges.SetBinding(key, value);
        }

        if (changes.ChangesUserId)
        {
            sealedChanges.SetUserId(changes.UserId);
        }

        if (changes.ChangesKind)
        {
            sealedChanges.SetKind(changes.Kind);
        }

        if (changes.AbsoluteExpiryCap is { } cap)
        {
            sealedChanges.CapAbsoluteExpiry(cap);
        }

        return sealedChanges;
    }

    private string SealMetadata(string handle, string key, string value)
    {
        var maxBytes = Encoding.UTF8.GetMaxByteCount(value.Length);
        var rented = maxBytes > 256 ? System.Buffers.ArrayPool<byte>.Shared.Rent(maxBytes) : null;
        var buffer = rented is null ? stackalloc byte[256] : rented;
        try
        {
            var written = Encoding.UTF8.GetBytes(value, buffer);
            return sealer.Seal(handle, SessionValueSealer.MetadataKind, key, buffer[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    // A state value is sealed as its raw JSON text and stored as a JSON string holding the sealed form.
    private JsonElement SealState(string handle, string key, JsonElement value)
    {
        var sealedText = sealer.Seal(handle, SessionValueSealer.StateKind, key, JsonMarshal.GetRawUtf8Value(value));
        return JsonElement.Parse(string.Concat("\"", sealedText, "\""));
    }

    private async ValueTask<Session?> OpenAsync(ValueTask<Session?> pending, bool strict) =>
        Open(await pending.ConfigureAwait(false), strict);

    private List<Session> OpenAll(IReadOnlyList<Session> sessions)
    {
        var opened = new List<Session>(sessions.Count);
        foreach (var session in sessions)
        {
            opened.Add(Open(session, strict: false)!);
        }

        return opened;
    }

    /// <summary>Opens every sealed value of a snapshot; returns the same snapshot when it holds none.</summary>
    private Session? Open(Session? session, bool strict)
    {
        if (session is null || !HoldsSealedValue(session))
        {
            return session;
        }

        var handle = session.Handle;
        var metadata = new Dictionary<string, string>(session.Metadata.Count, StringComparer.Ordinal);
        foreach (var (key, value) in session.Metadata)
        {
            if (!SessionValueSealer.IsSealed(value))
            {
                metadata[key] = value;
            }
            else if (TryOpen(handle, SessionValueSealer.MetadataKind, key, value, strict) is { } plaintext)
            {
                metadata[key] = Encoding.UTF8.GetString(plaintext);
            }
        }

        var state = new Dictionary<string, JsonElement>(session.State.Count, StringComparer.Ordinal);
        foreach (var (key, value) in session.State)
        {
            if (!IsSealed(value))
            {
                state[key] = value;
            }
            else if (TryOpen(handle, SessionValueSealer.StateKind, key, value.GetString()!, strict) is { } plaintext
                && ParseState(key, plaintext, strict) is { } opened)
            {
                state[key] = opened;
            }
        }

        return session with { Metadata = metadata, State = state };
    }

    private byte[]? TryOpen(string handle, byte kind, string key, string stored, bool strict)
    {
        try
        {
            return sealer.Open(handle, kind, key, stored);
        }
        catch (SessionFormatException) when (!strict)
        {
            return null;
        }
    }

    private static JsonElement? ParseState(string key, byte[] json, bool strict)
    {
        try
        {
            return JsonElement.Parse(json);
        }
        catch (JsonException) when (!strict)
        {
            return null;
        }
        catch (JsonException ex)
        {
            throw new SessionFormatException($"The sealed state value of key '{key}' opened but is not JSON.", ex);
        }
    }

    private static bool HoldsSealedValue(Session session)
    {
        foreach (var value in session.Metadata.Values)
        {
            if (SessionValueSealer.IsSealed(value))
            {
                return true;
            }
        }

        foreach (var value in session.State.Values)
        {
            if (IsSealed(value))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsSealed(JsonElement value) =>
        value.ValueKind == JsonValueKind.String && JsonMarshal.GetRawUtf8Value(value).StartsWith(SealedJsonStart);
}
