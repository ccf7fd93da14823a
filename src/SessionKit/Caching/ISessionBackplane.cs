namespace SessionKit.Caching;

/// <summary>
/// Carries invalidations and notifications between the nodes that share a session store, so each node's
/// restore-on-miss cache drops what another node changed. <see cref="InProcessSessionBackplane"/> serves one process;
/// <c>RedisSessionBackplane</c> (package SessionKit.Redis) serves many.
/// </summary>
/// <remarks>
/// <para>Delivery is at most once. A backplane therefore reports <see cref="IsConnected"/> honestly and tells its
/// subscribers when it loses or regains the connection: a cache must not serve entries while messages may be lost
/// (revocation fails closed).</para>
/// <para><b>Strict revocation.</b> <see cref="RevokeAsync"/> is what makes a delete, rotation or guard termination
/// final on every node the moment it returns: it completes only when every node that may still serve a cached copy
/// has applied the message, or can no longer serve anything (its <see cref="IsConnected"/> turned false on its own
/// clock). A cache in strict mode checks <see cref="IsConnected"/> on every hit, so the property must be cheap,
/// lock-free and time-based (a lease), not merely the last connection event.</para>
/// </remarks>
public interface ISessionBackplane
{
    /// <summary>
    /// Gets a value indicating whether messages published by other nodes currently reach this node, proven recently
    /// enough that this node may serve cached entries now. Read on every cache hit in strict mode.
    /// </summary>
    bool IsConnected { get; }

    /// <summary>Publishes a message to every node (subscribers on this node receive it as well).</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>A task that completes when the message was handed to the transport.</returns>
    /// <exception cref="SessionBackplaneException">The transport failed.</exception>
    ValueTask PublishAsync(SessionBackplaneMessage message, CancellationToken cancellationToken = default);

    /// <summary>
    /// Publishes a terminal message (a session deleted, rotated or terminated) and completes only when no node can
    /// serve what it revokes any more: every node proven connected has applied it (acknowledged it), and any node
    /// that did not answer has passed the point where it stops serving on its own.
    /// </summary>
    /// <param name="message">The message; <see cref="SessionBackplaneMessage.IsTerminal"/> is expected.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>A task that completes when the revocation holds on every node.</returns>
    /// <exception cref="SessionBackplaneException">The message could not be published, so other nodes were not told.</exception>
    ValueTask RevokeAsync(SessionBackplaneMessage message, CancellationToken cancellationToken = default);

    /// <summary>Registers a subscriber until the returned handle is disposed.</summary>
    /// <param name="subscriber">The subscriber.</param>
    /// <returns>A handle that unsubscribes when disposed.</returns>
    IDisposable Subscribe(ISessionBackplaneSubscriber subscriber);
}
