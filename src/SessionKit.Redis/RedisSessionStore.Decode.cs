using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SessionKit.Internal;
using SessionKit.Redis.Internal;
using StackExchange.Redis;

namespace SessionKit.Redis;

// Reading hashes back: decoding (with the snapshot memo), foreign values at session keys, user-index entries.
public sealed partial class RedisSessionStore
{
    /// <summary>Adds a user-index entry and bounds the index key's life (see <c>Scripts.IndexUser</c>).</summary>
    private async Task IndexUserAsync(IDatabase database, RedisKey userKey, string id, long scoreMs, long nowMs) =>
        await EvaluateAsync(database, Scripts.IndexUser, userKey, [id, scoreMs, nowMs, _graceMs]).ConfigureAwait(false);

    private static bool IsWrongType(Exception exception) =>
        exception is RedisServerException server ? server.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal) : exception.InnerException is { } inner && IsWrongType(inner);

    /// <summary>
    /// Removes a value of another type found at a session's key (a foreign write or a bug elsewhere): it is no session,
    /// so it reads as absent, is logged by tag, and must not fail other callers. Best effort: the sweep retries.
    /// </summary>
    private async Task DropForeignAsync(string id, RedisKey key, string operation)
    {
        Log.ForeignValue(_logger, SessionIdTagger.Tag(id), operation);
        try
        {
            await RunAsync(
                operation,
                id,
                key,
                static (store, database, key, _, _) => store.EvaluateAsync(database, Scripts.DropForeign, key, []),
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (SessionStoreException ex)
        {
            Log.IndexMaintenanceFailed(_logger, operation, Describe(ex));
        }
    }

    private Session? Decode(string operation, string id, HashEntry[] entries)
    {
        if (entries.Length == 0)
        {
            return null;
        }

        if (_memo.Find(id, entries) is { } unchanged)
        {
            return unchanged;
        }

        var session = RedisSessionHash.Decode(id, entries, out var error);
        if (error is not null)
        {
            Log.UnreadableSession(_logger, operation, error);
        }
        else if (session is not null)
        {
            _memo.Remember(id, entries, session);
        }

        return session;
    }
}
