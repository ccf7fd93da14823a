namespace SessionKit.Security;

/// <summary>Options for <see cref="CredentialBindingGuard"/>.</summary>
public sealed class CredentialBindingOptions
{
    /// <summary>The smallest accepted server key, in bytes.</summary>
    public const int MinimumKeyBytes = 32;

    /// <summary>
    /// Gets or sets the server key for HMAC-SHA256 (at least 32 bytes, from a secret store). Every node must use the
    /// same key for sessions to move between nodes.
    /// </summary>
    /// <value>Default <see langword="null"/>: a random per-process key is generated and a warning is logged (sessions then do not survive a restart or move between nodes).</value>
    public byte[]? Key { get; set; }

    /// <summary>
    /// Gets the previous server keys still accepted after a key rotation. A session bound under a previous key is
    /// verified with it and re-bound under <see cref="Key"/> on its next access.
    /// </summary>
    /// <value>Default empty.</value>
    public IList<byte[]> PreviousKeys { get; } = [];
}
