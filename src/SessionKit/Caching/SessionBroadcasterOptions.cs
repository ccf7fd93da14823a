namespace SessionKit.Caching;

/// <summary>Options of <see cref="SessionBroadcaster"/>.</summary>
public sealed class SessionBroadcasterOptions
{
    /// <summary>
    /// Gets or sets how many notifications one subscriber may have waiting. A subscriber whose buffer is full is
    /// dropped (its reader completes, <see cref="SessionSubscription.IsDropped"/> turns true) so it never stalls the publisher.
    /// </summary>
    /// <value>Default 64. Positive.</value>
    public int SubscriberBufferCapacity { get; set; } = 64;
}
