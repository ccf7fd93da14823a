namespace SessionKit.Caching;

/// <summary>
/// Rebuilds a live object (connections, clients, routing tables) from a stored session — after a restart, or when a
/// request for the session lands on another node. Used by <see cref="LiveSessionCache{T}"/>.
/// </summary>
/// <typeparam name="T">The live object's type. If it implements <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/>, the cache disposes it when it leaves.</typeparam>
public interface ISessionActivator<T>
    where T : class
{
    /// <summary>Builds the live object for a session. Runs once per session id per node at a time.</summary>
    /// <param name="session">The stored session, as the store holds it now.</param>
    /// <param name="cancellationToken">Cancelled when the activation times out or the cache is disposed (never a caller's token).</param>
    /// <returns>The live object.</returns>
    ValueTask<T> ActivateAsync(Session session, CancellationToken cancellationToken);
}
