namespace SessionKit.Caching;

/// <summary>An application notification delivered by <see cref="ISessionBroadcaster"/>.</summary>
/// <param name="SessionId">The session it was published to; <see langword="null"/> when it was published to every session.</param>
/// <param name="Payload">The application's text (for example a JSON-RPC notification).</param>
public sealed record SessionNotification(string? SessionId, string Payload)
{
    /// <summary>Returns a description that omits the session id and the payload.</summary>
    /// <returns>A log-safe description.</returns>
    public override string ToString() => $"SessionNotification {{ ToAll = {SessionId is null}, PayloadLength = {Payload.Length} }}";
}
