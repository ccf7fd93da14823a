namespace SessionKit;

/// <summary>A session lifecycle event, delivered to every <see cref="ISessionLifecycleHandler"/>.</summary>
/// <remarks><see cref="SessionId"/> is a credential: handlers must not log it.</remarks>
public sealed record SessionEvent
{
    /// <summary>Gets what happened.</summary>
    public required SessionEventKind Kind { get; init; }

    /// <summary>Gets the session's id (after a rotation, the new id).</summary>
    public required string SessionId { get; init; }

    /// <summary>Gets the session's owner, when it has one.</summary>
    public string? UserId { get; init; }

    /// <summary>Gets when it happened, by the manager's clock.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>Gets the id the session had before a <see cref="SessionEventKind.Rotated"/> event.</summary>
    public string? PreviousSessionId { get; init; }

    /// <summary>Gets the guard that decided a <see cref="SessionEventKind.Rejected"/> event.</summary>
    public string? Guard { get; init; }

    /// <summary>Gets why a guard rejected the access (for the host; never for the client).</summary>
    public string? Reason { get; init; }

    /// <summary>Returns a description that omits the session ids.</summary>
    /// <returns>A log-safe description.</returns>
    public override string ToString() => $"SessionEvent {{ Kind = {Kind}, Timestamp = {Timestamp:O}, Guard = {Guard}, Reason = {Reason} }}";
}
