namespace SessionKit.Security;

/// <summary>
/// Options of encryption at rest: the key ring that seals every <see cref="Session.Metadata"/> and
/// <see cref="Session.State"/> value with AES-256-GCM before it reaches the store. <c>AddStateEncryption()</c> sets
/// <see cref="SessionKitOptions.Encryption"/>; without DI, set that property.
/// </summary>
/// <remarks>
/// <para>Values are sealed one by one and bound to the session's <see cref="Session.Handle"/> and to their key, so a
/// value copied to another key or session does not open. Keys, binding data, the user id and the kind stay clear:
/// per-key merges, guards and indexes need them.</para>
/// <para>To rotate: deploy the new key as <see cref="Key"/> (with a new <see cref="KeyId"/>) and the old one in
/// <see cref="PreviousKeys"/> on every node; values re-seal under the new key when they are next written. Drop the
/// old key once every session that could hold a value sealed with it has expired (the absolute timeout).</para>
/// </remarks>
public sealed class SessionEncryptionOptions
{
    /// <summary>The length of every key, in bytes (AES-256).</summary>
    public const int KeyBytes = 32;

    /// <summary>The longest accepted key id, in characters.</summary>
    public const int MaxKeyIdLength = 64;

    /// <summary>
    /// Gets or sets the id of <see cref="Key"/>, written beside every value it seals so a reader knows which key
    /// opens it: 1 to 64 ASCII letters, digits, <c>.</c>, <c>_</c> or <c>-</c> (for example <c>2026-01</c>). Not secret.
    /// </summary>
    /// <value>Default <see langword="null"/>; required.</value>
    public string? KeyId { get; set; }

    /// <summary>
    /// Gets or sets the current key: 32 random bytes from a secret store, the same on every node. It seals every
    /// value written and opens values sealed under <see cref="KeyId"/>.
    /// </summary>
    /// <value>Default <see langword="null"/>; required.</value>
    public byte[]? Key { get; set; }

    /// <summary>
    /// Gets the previous keys, by key id, still accepted for reading after a rotation. They never seal anything; a
    /// value sealed with one is sealed again with <see cref="Key"/> the next time it is written.
    /// </summary>
    /// <value>Default empty. Each id follows the <see cref="KeyId"/> rules and differs from it; each key is 32 bytes.</value>
    public IDictionary<string, byte[]> PreviousKeys { get; } = new Dictionary<string, byte[]>(StringComparer.Ordinal);
}
