namespace SessionKit.Caching;

/// <summary>Options of a <see cref="LiveSessionCache{T}"/>.</summary>
public sealed class LiveSessionOptions
{
    /// <summary>Gets or sets the most live objects the node keeps; beyond it the least recently used one is disposed.</summary>
    /// <value>Default 1,000. Positive.</value>
    public int Capacity { get; set; } = 1000;

    /// <summary>Gets or sets how long one activation may take before it is cancelled.</summary>
    /// <value>Default 15 seconds. Positive.</value>
    public TimeSpan ActivationTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
