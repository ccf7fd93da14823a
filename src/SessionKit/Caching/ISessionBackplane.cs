namespace SessionKit.Caching;

/// <summary>
/// Carries invalidations and notifications between the nodes that share a session store, so each node's
/// restore-on-miss cache drops what another node changed. <see cref="InProcessSessionBackplane"/> serves one process;
/// <c>RedisSessionBackplane</c> (package SessionKit.Redis) serves many.
/// </summary>
/// <remarks>
/// Delivery is at most once. A backplane therefore reports <see cref="IsConnected"/> honestly and tells its
/// subscribers when it loses or regains the connection: a cache must not serve entries while messages may be lost
/// (revocation fails closed).
/// </remarks>
public interface ISessionBackplane
{
    /// <summary>Gets a value indicating whether messages published by other nodes currently reach this node.</summary>
    bool IsConnected { get; }

    /// <summary>Publishes a message to every node (subscribers on this node receive it as well).</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>A task that completes when the message was handed to the transport.</returns>
    /// <exception cref="SessionBackplaneException">The transport failed.</exception>
    ValueTask PublishAsync(SessionBackplaneMessage message, CancellationToken cancellationToken = default);

    /// <summary>Registers a subscriber until the returned handle is disposed.</summary>
    /// <param name="subscriber">The subscriber.</param>
    /// <returns>A handle that unsubscribes when disposed.</returns>
    IDisposable Subscribe(ISessionBackplaneSubscriber subscriber);
}
