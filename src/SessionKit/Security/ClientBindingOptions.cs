namespace SessionKit.Security;

/// <summary>Options for <see cref="ClientBindingGuard"/>.</summary>
public sealed class ClientBindingOptions
{
    /// <summary>Gets or sets a value indicating whether the client's network prefix is bound.</summary>
    /// <value>Default <see langword="true"/>.</value>
    public bool BindAddress { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether the client's User-Agent is bound.</summary>
    /// <value>Default <see langword="true"/>.</value>
    public bool BindUserAgent { get; set; } = true;

    /// <summary>Gets or sets the IPv4 prefix length compared (24 means the /24 network).</summary>
    /// <value>Default 24; 0 to 32.</value>
    public int IPv4PrefixLength { get; set; } = 24;

    /// <summary>Gets or sets the IPv6 prefix length compared (64 means the /64 network).</summary>
    /// <value>Default 64; 0 to 128.</value>
    public int IPv6PrefixLength { get; set; } = 64;

    /// <summary>Gets or sets what happens on a mismatch.</summary>
    /// <value>Default <see cref="ClientBindingMode.LogOnly"/>.</value>
    public ClientBindingMode Mode { get; set; } = ClientBindingMode.LogOnly;
}
