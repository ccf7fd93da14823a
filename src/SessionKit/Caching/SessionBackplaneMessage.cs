namespace SessionKit.Caching;

/// <summary>
/// One message on an <see cref="ISessionBackplane"/>: an invalidation (a session changed, was deleted, rotated or
/// expired) or an application notification for <see cref="ISessionBroadcaster"/>. Invalidations carry no session data,
/// only what a receiver needs to drop what it holds.
/// </summary>
/// <remarks><see cref="SessionId"/> is a credential: never log it. It travels only between nodes that share the store.</remarks>
public sealed record SessionBackplaneMessage
{
    /// <summary>Gets the node that sent the message; a node ignores its own messages.</summary>
    public required string SourceId { get; init; }

    /// <summary>Gets what happened.</summary>
    public required SessionBackplaneAction Action { get; init; }

    /// <summary>Gets the session the message is about; <see langword="null"/> only for a notification to every session.</summary>
    public string? SessionId { get; init; }

    /// <summary>
    /// Gets the session's data version after the change (<see cref="Session.Version"/>). A receiver ignores an
    /// <see cref="SessionBackplaneAction.Updated"/> message older than what it holds; terminal actions use <see cref="long.MaxValue"/>.
    /// </summary>
    public long Version { get; init; }

    /// <summary>Gets the notification text for <see cref="SessionBackplaneAction.Notification"/>; otherwise <see langword="null"/>.</summary>
    public string? Payload { get; init; }

    /// <summary>Gets a value indicating whether the action ends the session's id for good (deleted, rotated or expired).</summary>
    public bool IsTerminal => Action is SessionBackplaneAction.Deleted or SessionBackplaneAction.Rotated or SessionBackplaneAction.Expired;

    /// <summary>Returns a description that omits the session id and the payload.</summary>
    /// <returns>A log-safe description.</returns>
    public override string ToString() => $"SessionBackplaneMessage {{ Action = {Action}, Version = {Version}, PayloadLength = {Payload?.Length ?? 0} }}";
}
