using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SessionKit.Internal;
using SessionKit.Redis.Internal;
using StackExchange.Redis;

namespace SessionKit.Redis;

/// <summary>
/// A session store shared by many nodes through Redis: one hash per session, one plain read (<c>HGETALL</c>) per
/// get, one Lua call per touch, create and update, and a per-user index kept without keyspace notifications.
/// </summary>
/// <remarks>
/// <para><b>Keys.</b> <c>{prefix}s:{id}</c> is the session hash; <c>{prefix}u:{userId}</c> a sorted set of the
/// user's session ids; <c>{prefix}expiry</c> a sorted set of every session id. Both sorted sets are scored by the
/// session's expiry (Unix ms) as known when the entry was last written, which is a lower bound: a touch slides the
/// hash only, so a hot session costs exactly one write per touch window.</para>
/// <para><b>Indexes without cross-slot atomicity.</b> Every script touches only the session hash, so the indexes are
/// separate commands and may briefly disagree with the hashes. They stay correct because (1) index entries are
/// added before the session is written and removed after it is deleted, so an index may hold a stale entry but
/// never misses a live session; (2) readers validate every entry against its hash and drop an entry whose hash is
/// gone or belongs to another user once the entry's score has passed (a fresh entry may belong to a write still in
/// flight); (3) the sweep reads due entries from the expiry set, deletes a session only if its hash is still
/// expired (compare-and-delete in one script), removes it from both sets, and re-scores sessions that were slid
/// meanwhile. Redis TTLs (expiry + <see cref="RedisSessionStoreOptions.ExpiryGracePeriod"/>) only reclaim space.</para>
/// <para><b>Faults.</b> Every operation completes within <see cref="RedisSessionStoreOptions.OperationTimeout"/>:
/// with Redis down or hung it throws <see cref="SessionStoreException"/>, and it works again as soon as the
/// multiplexer reconnects, with no restart.</para>
/// <para>Timestamps are stored in whole milliseconds. Listing all sessions or by kind uses <c>SCAN</c> on every
/// primary in turn (each master of a cluster; on a standalone server, that server); listing by user uses the user's
/// index.</para>
/// </remarks>
public sealed partial class RedisSessionStore : ISessionStore, IAsyncDisposable, IDisposable
{
    private const string OpCreate = "create";
    private const string OpGet = "get";
    private const string OpTouch = "touch";
    private const string OpUpdate = "update";
    private const string OpDelete = "delete";
    private const string OpExists = "exists";
    private const string OpQuery = "query";
    private const string OpRemoveExpired = "remove-expired";

    private static readonly RedisValue[] LivenessFields = ["v", "la", "idle", "abs"];

    private readonly RedisSessionStoreOptions _options;
    private readonly ILogger _logger;
    private readonly RedisKeyspace _keys;
    private readonly TimeSpan _timeout;
    private readonly long _graceMs;
    private readonly SnapshotMemo _memo = new();
    private readonly Lock _connectLock = new();
    private Task<IConnectionMultiplexer>? _connecting;
    private IConnectionMultiplexer? _owned;
    private IDatabase? _database;
    private bool _disposed;

    /// <summary>Initializes a new instance of the <see cref="RedisSessionStore"/> class.</summary>
    /// <param name="options">The store options; validated here, so a bad configuration fails fast.</param>
    /// <param name="loggerFactory">The logger factory; <see langword="null"/> for no logging.</param>
    /// <exception cref="OptionsValidationException">The options are invalid.</exception>
    public RedisSessionStore(IOptions<RedisSessionStoreOptions> options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        var validation = new RedisSessionStoreOptionsValidator().Validate(Options.DefaultName, _options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(RedisSessionStoreOptions), validation.Failures);
        }

        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<RedisSessionStore>();
        _keys = new RedisKeyspace(_options.KeyPrefix);
        _timeout = _options.OperationTimeout;
        _graceMs = RedisSessionHash.ToMs(_options.ExpiryGracePeriod);
    }

    /// <inheritdoc />
    public string Name => "redis";

    /// <inheritdoc />
    /// <remarks>
    /// Adds the session to its user's index first (when it has a user), then runs one script that creates the hash if
    /// no live session has the id, arms its TTL and schedules it in its bucket's expiry set.
    /// </remarks>
    /// <exception cref="ArgumentException">The id or user id is empty or not well-formed UTF-16.</exception>
    public async ValueTask<bool> CreateAsync(Session session, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentException.ThrowIfNullOrEmpty(session.Id, nameof(session));
        WellFormedText.ThrowIfIllFormed(session, nameof(session));
        if (!_keys.TrySessionKey(session.Id, out var key, out var bucket))
        {
            throw new ArgumentException("The session id is not well-formed UTF-16.", nameof(session));
        }

        RedisKey userKey = default;
        if (session.UserId is { } userId && !_keys.TryUserKey(userId, out userKey))
        {
            throw new ArgumentException("The user id is not well-formed UTF-16.", nameof(session));
        }

        return await RunAsync(
            OpCreate,
            session.Id,
            (Session: session, Key: key, Bucket: bucket, UserKey: userKey, Now: now),
            static (store, database, s, start, cancellationToken) => store.CreateCoreAsync(database, s.Session, s.Key, s.Bucket, s.UserKey, s.Now, start, cancellationToken),
            cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> CreateCoreAsync(IDatabase database, Session session, RedisKey key, int bucket, RedisKey userKey, DateTimeOffset now, long start, CancellationToken cancellationToken)
    {
        var expiresMs = RedisSessionHash.ExpiresMs(session);
        var nowMs = RedisSessionHash.ToMs(now);

        // The user index first: a failure between the steps leaves an entry readers skip, never a session it misses.
        if (session.UserId is not null)
        {
            await WithTimeout(IndexUserAsync(database, userKey, session.Id, expiresMs, nowMs), start, cancellationToken).ConfigureAwait(false);
        }

        var args = new List<RedisValue>(36) { nowMs, _graceMs, expiresMs, session.Id };
        RedisSessionHash.AppendFields(session, args);
        var result = (RedisResult[])(await WithTimeout(EvaluateAsync(database, Scripts.Create, [key, _keys.ExpiryKey(bucket)], [.. args]), start, cancellationToken).ConfigureAwait(false))!;
        if ((long)result[0] == 1)
        {
            var replacedUser = (string?)result[1];
            if (replacedUser is not null && !string.Equals(replacedUser, session.UserId, StringComparison.Ordinal))
            {
                await MaintainIndexesAsync(OpCreate, start, database.SortedSetRemoveAsync(_keys.UserKey(replacedUser), session.Id), session.Id).ConfigureAwait(false);
            }

            return true;
        }

        // Collision with a live session: put its user entry back the way it has it.
        if (session.UserId is not null)
        {
            var liveUser = (string?)result[1];
            var repair = string.Equals(liveUser, session.UserId, StringComparison.Ordinal)
                ? IndexUserAsync(database, userKey, session.Id, (long)result[2], nowMs)
                : database.SortedSetRemoveAsync(userKey, session.Id);
            await MaintainIndexesAsync(OpCreate, start, repair, session.Id).ConfigureAwait(false);
        }

        return false;
    }

    /// <inheritdoc />
    /// <remarks>
    /// One <c>HGETALL</c>; logical expiry is checked here against <paramref name="now"/>. When the reply is byte for
    /// byte the hash last decoded for this id, that immutable snapshot is reused instead of parsed again (a bounded
    /// memo of small sessions; it never answers without the fresh read).
    /// </remarks>
    public async ValueTask<Session?> GetAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!_keys.TrySessionKey(id, out var key))
        {
            return null;
        }

        HashEntry[] entries;
        try
        {
            entries = await RunAsync(
                OpGet,
                id,
                key,
                static (store, database, key, start, cancellationToken) => store.WithTimeout(database.HashGetAllAsync(key), start, cancellationToken),
                cancellationToken).ConfigureAwait(false);
        }
        catch (SessionStoreException ex) when (IsWrongType(ex))
        {
            await DropForeignAsync(id, key, OpGet).ConfigureAwait(false);
            return null;
        }

        var session = Decode(OpGet, id, entries);
        return session is not null && session.IsLiveAt(now) ? session : null;
    }

    /// <inheritdoc />
    /// <remarks>One <c>HMGET</c> of the expiry fields.</remarks>
    public async ValueTask<bool> ExistsAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!_keys.TrySessionKey(id, out var key))
        {
            return false;
        }

        RedisValue[] values;
        try
        {
            values = await RunAsync(
                OpExists,
                id,
                key,
                static (store, database, key, start, cancellationToken) => store.WithTimeout(database.HashGetAsync(key, LivenessFields), start, cancellationToken),
                cancellationToken).ConfigureAwait(false);
        }
        catch (SessionStoreException ex) when (IsWrongType(ex))
        {
            await DropForeignAsync(id, key, OpExists).ConfigureAwait(false);
            return false;
        }

        if (!values[0].HasValue)
        {
            return false;
        }

        if (!values[0].TryParse(out long format) || format != RedisSessionHash.FormatVersion || !values[1].TryParse(out long lastAccessMs) || !values[2].TryParse(out long idleMs) || idleMs <= 0)
        {
            Log.UnreadableSession(_logger, OpExists, "the expiry fields are missing or not integers");
            return false;
        }

        var expiresMs = lastAccessMs + idleMs;
        if (values[3].HasValue)
        {
            if (!values[3].TryParse(out long absoluteMs))
            {
                Log.UnreadableSession(_logger, OpExists, "the absolute expiry is not an integer");
                return false;
            }

            expiresMs = Math.Min(expiresMs, absoluteMs);
        }

        return expiresMs > RedisSessionHash.ToMs(now);
    }

    /// <inheritdoc />
    /// <remarks>One Lua call, and no other write: the indexes keep their (lower-bound) scores until the sweep re-scores them.</remarks>
    public async ValueTask<bool> TouchAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!_keys.TrySessionKey(id, out var key))
        {
            return false;
        }

        var result = await RunAsync(
            OpTouch,
            id,
            (Key: key, NowMs: RedisSessionHash.ToMs(now)),
            static (store, database, s, start, cancellationToken) =>
                store.WithTimeout(store.EvaluateAsync(database, Scripts.Touch, s.Key, [s.NowMs, store._graceMs]), start, cancellationToken),
            cancellationToken).ConfigureAwait(false);
        return (long)result == 1;
    }

    /// <inheritdoc />
    /// <remarks>One Lua call deletes the hash and its expiry entry; the user index entry is removed after it.</remarks>
    public async ValueTask<Session?> DeleteAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!_keys.TrySessionKey(id, out var key, out var bucket))
        {
            return null;
        }

        return await RunAsync(
            OpDelete,
            id,
            (Id: id, Key: key, Bucket: bucket, NowMs: RedisSessionHash.ToMs(now)),
            static (store, database, s, start, cancellationToken) => store.DeleteCoreAsync(database, s.Id, s.Key, s.Bucket, s.NowMs, start, cancellationToken),
            cancellationToken).ConfigureAwait(false);
    }

    private async Task<Session?> DeleteCoreAsync(IDatabase database, string id, RedisKey key, int bucket, long nowMs, long start, CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await WithTimeout(EvaluateAsync(database, Scripts.Delete, [key, _keys.ExpiryKey(bucket)], [nowMs, id]), start, cancellationToken).ConfigureAwait(false))!;
        if ((long)result[2] == 1)
        {
            _memo.Forget(id);
            if ((string?)result[1] is { } user)
            {
                await MaintainIndexesAsync(OpDelete, start, database.SortedSetRemoveAsync(_keys.UserKey(user), id), id).ConfigureAwait(false);
            }
        }

        // A live hash that cannot be decoded is still gone; report it as removed, with what can be said of it.
        return (long)result[0] == 1
            ? RedisSessionHash.Decode(id, result, 3, out _) ?? new Session { Id = id, CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(nowMs), LastAccessedAt = DateTimeOffset.FromUnixTimeMilliseconds(nowMs), IdleTimeout = TimeSpan.FromMilliseconds(1) }
            : null;
    }

    /// <summary>Disposes the multiplexer if the store created it (from <see cref="RedisSessionStoreOptions.Configuration"/>).</summary>
    public void Dispose()
    {
        IConnectionMultiplexer? owned;
        lock (_connectLock)
        {
            _disposed = true;
            owned = _owned;
            _owned = null;
            _database = null;
        }

        owned?.Dispose();
    }

    /// <summary>Disposes the multiplexer if the store created it (from <see cref="RedisSessionStoreOptions.Configuration"/>).</summary>
    /// <returns>A task that completes when the multiplexer is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        IConnectionMultiplexer? owned;
        lock (_connectLock)
        {
            _disposed = true;
            owned = _owned;
            _owned = null;
            _database = null;
        }

        if (owned is not null)
        {
            await owned.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            owned.Dispose();
        }
    }

    private const long PendingEntryMs = 24L * 60 * 60 * 1000;

}
