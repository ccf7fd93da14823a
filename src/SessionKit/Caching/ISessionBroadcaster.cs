namespace SessionKit.Caching;

/// <summary>
/// Fans application notifications out to the subscribers of one session, or of every session, on every node that
/// shares the <see cref="ISessionBackplane"/>. Delivery is at most once and never blocks the publisher: each
/// subscriber has a bounded buffer and a subscriber that falls behind is dropped. A session's subscriptions close
/// (<see cref="SessionSubscription.IsSessionEnded"/>) when the session is deleted, expires or is rotated, so a
/// logged-out session stops receiving.
/// </summary>
public interface ISessionBroadcaster
{
    /// <summary>Publishes a notification to the subscribers of one session (and to subscribers of every session), on every node.</summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="payload">The notification text.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>A task that completes when local subscribers have it and it was handed to the backplane.</returns>
    /// <exception cref="SessionBackplaneException">The backplane failed; subscribers on this node received the notification.</exception>
    ValueTask PublishAsync(string sessionId, string payload, CancellationToken cancellationToken = default);

    /// <summary>Publishes a notification to every subscriber of every session, on every node.</summary>
    /// <param name="payload">The notification text.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>A task that completes when local subscribers have it and it was handed to the backplane.</returns>
    /// <exception cref="SessionBackplaneException">The backplane failed; subscribers on this node received the notification.</exception>
    ValueTask PublishToAllAsync(string payload, CancellationToken cancellationToken = default);

    /// <summary>Subscribes to one session's notifications (and those sent to every session), or to every notification.</summary>
    /// <param name="sessionId">The session; <see langword="null"/> to receive every notification on this node.</param>
    /// <returns>The subscription; dispose it to stop.</returns>
    SessionSubscription Subscribe(string? sessionId);
}
