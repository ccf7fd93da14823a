namespace SessionKit.Caching;

/// <summary>Receives what an <see cref="ISessionBackplane"/> delivers. Callbacks must be fast and must not throw.</summary>
public interface ISessionBackplaneSubscriber
{
    /// <summary>Handles a message from any node, this one included (compare <see cref="SessionBackplaneMessage.SourceId"/>).</summary>
    /// <param name="message">The message.</param>
    void OnMessage(SessionBackplaneMessage message);

    /// <summary>
    /// Handles a change of the backplane's connection. While disconnected, messages from other nodes may be lost, so
    /// anything cached on their word must stop being served; on reconnection, whatever was cached must be dropped
    /// before it is served again.
    /// </summary>
    /// <param name="connected">The new state.</param>
    void OnConnectionChanged(bool connected);
}
