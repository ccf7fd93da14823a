namespace SessionKit.Caching;

/// <summary>
/// Live objects per session on this node: looked up through the manager on every access (so guards, expiry and
/// other nodes' deletes apply), built by an <see cref="ISessionActivator{T}"/> on a miss, bounded, and disposed when
/// the session is deleted, rotated, expires or is evicted.
/// </summary>
/// <typeparam name="T">The live object's type.</typeparam>
public interface ILiveSessionCache<T>
    where T : class
{
    /// <summary>Gets how many live objects the node holds.</summary>
    int Count { get; }

    /// <summary>
    /// Looks the session up through <see cref="ISessionManager.GetAsync"/> and returns it with its live object,
    /// activating one if this node has none. Concurrent callers for one id share one activation.
    /// </summary>
    /// <param name="id">The presented id.</param>
    /// <param name="context">The access; <see langword="null"/> for <see cref="SessionAccessContext.Default"/>.</param>
    /// <param name="cancellationToken">Stops this caller's wait (not a shared activation).</param>
    /// <returns>The lookup status and, when found, the session with its live object.</returns>
    /// <exception cref="SessionStoreException">The store failed.</exception>
    ValueTask<LiveSessionLookup<T>> GetAsync(string id, SessionAccessContext? context = null, CancellationToken cancellationToken = default);
}
