using StackExchange.Redis;

namespace SessionKit.Redis;

public sealed partial class RedisSessionStore
{
    /// <summary>
    /// Gets the multiplexer the store uses, connecting on first use: <c>AddRedisBackplane()</c> shares it, so one node
    /// opens one set of connections for its store and its backplane. The store keeps owning it when it created it.
    /// </summary>
    internal Task<IConnectionMultiplexer> GetMultiplexerAsync()
    {
        lock (_connectLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connecting is null || _connecting.IsFaulted || _connecting.IsCanceled)
            {
                _connecting = StartConnecting();
            }

            return _connecting;
        }
    }
}
