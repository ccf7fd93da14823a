using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using StackExchange.Redis;

namespace SessionKit.Redis;

public sealed partial class RedisSessionStore
{
    private const string CursorPrefix = "r1.";
    private const byte UserCursorTag = (byte)'U';
    private const byte ScanCursorTag = (byte)'S';

    // A scan cursor: tag, format, primary index (big-endian u16, ScanFinished once every primary is done), that
    // primary's SCAN cursor (u64), then the pending ids. Format 1 (one node, a done flag in this byte) is refused.
    private const byte ScanCursorFormat = 2;
    private const ushort ScanFinished = ushort.MaxValue;
    private const int ScanHeaderLength = 12;
    private const int MaxScanCallsPerPage = 32;
    private const int MaxScanCount = 1000;

    /// <inheritdoc />
    /// <remarks>
    /// By user: one page of the user's index, each entry validated against its hash (stale entries are skipped and,
    /// once their score has passed, pruned). Otherwise: <c>SCAN</c> over the session keys of every primary in turn
    /// (ordered by endpoint; on a standalone server, that server), the page cursor naming the primary and its
    /// <c>SCAN</c> cursor; pages may hold fewer sessions than the limit, so page until
    /// <see cref="SessionPage.NextCursor"/> is <see langword="null"/>. A session changed while paging may appear twice,
    /// as <c>SCAN</c> allows; so may one whose slot moves between primaries while paging, and one that moves to a
    /// primary already visited may be missed (a listing during a resharding is not a snapshot).
    /// </remarks>
    public async ValueTask<SessionPage> QueryAsync(SessionQuery query, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var cursor = DecodeCursor(query);
        return await RunAsync(
            OpQuery,
            id: null,
            (Query: query, NowMs: Internal.RedisSessionHash.ToMs(now), Cursor: cursor),
            static (store, database, s, start, cancellationToken) => s.Query.UserId is not null
                ? store.QueryByUserAsync(database, s.Query, s.NowMs, s.Cursor, start, cancellationToken)
                : store.QueryByScanAsync(database, s.Query, s.NowMs, s.Cursor, start, cancellationToken),
            cancellationToken).ConfigureAwait(false);
    }

    private async Task<SessionPage> QueryByUserAsync(IDatabase database, SessionQuery query, long nowMs, byte[]? cursor, long start, CancellationToken cancellationToken)
    {
        if (!_keys.TryUserKey(query.UserId!, out var userKey))
        {
            return new SessionPage([], null);
        }

        SortedSetEntry[] entries;
        if (cursor is null)
        {
            entries = await WithTimeout(database.SortedSetRangeByScoreWithScoresAsync(userKey, take: query.Limit + 1), start, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // Keyset: everything after (score, member) in the set's own order (score, then member bytes).
            var afterScore = BinaryPrimitives.ReadDoubleBigEndian(cursor.AsSpan(1, 8));
            var afterMember = cursor.AsMemory(9);
            var sameScore = await WithTimeout(database.SortedSetLengthAsync(userKey, afterScore, afterScore), start, cancellationToken).ConfigureAwait(false);
            entries = await WithTimeout(database.SortedSetRangeByScoreWithScoresAsync(userKey, afterScore, double.PositiveInfinity, take: sameScore + query.Limit + 1), start, cancellationToken).ConfigureAwait(false);
            entries = Array.FindAll(entries, e => e.Score > afterScore || ((byte[])e.Element!).AsSpan().SequenceCompareTo(afterMember.Span) > 0);
        }

        var hasMore = entries.Length > query.Limit;
        var page = hasMore ? entries.AsSpan(0, query.Limit).ToArray() : entries;
        var ids = Array.ConvertAll(page, static e => (string)e.Element!);
        var snapshots = await ReadAllAsync(database, ids, start, cancellationToken).ConfigureAwait(false);

        var sessions = new List<Session>(page.Length);
        List<RedisValue>? stale = null;
        for (var i = 0; i < page.Length; i++)
        {
            var session = snapshots[i];
            var owned = session is not null && string.Equals(session.UserId, query.UserId, StringComparison.Ordinal);
            if (!owned)
            {
                // Gone or moved to another user. A fresh entry may belong to a create or update still in flight.
                if (page[i].Score <= nowMs)
                {
                    (stale ??= []).Add(page[i].Element);
                }

                continue;
            }

            if (session!.IsLiveAt(DateTimeOffset.FromUnixTimeMilliseconds(nowMs)) && Matches(session, query))
            {
                sessions.Add(session);
            }
        }

        if (stale is not null)
        {
            await MaintainIndexesAsync(OpQuery, start, database.SortedSetRemoveAsync(userKey, [.. stale])).ConfigureAwait(false);
            Log.IndexEntriesPruned(_logger, stale.Count);
        }

        string? next = null;
        if (hasMore)
        {
            var last = page[^1];
            var member = (byte[])last.Element!;
            var payload = new byte[9 + member.Length];
            payload[0] = UserCursorTag;
            BinaryPrimitives.WriteDoubleBigEndian(payload.AsSpan(1, 8), last.Score);
            member.CopyTo(payload, 9);
            next = CursorPrefix + Base64Url.EncodeToString(payload);
        }

        return new SessionPage(sessions, next);
    }

    private async Task<SessionPage> QueryByScanAsync(IDatabase database, SessionQuery query, long nowMs, byte[]? cursor, long start, CancellationToken cancellationToken)
    {
        var servers = Primaries(database.Multiplexer);
        var ids = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var server = 0;
        ulong scan = 0;
        if (cursor is not null)
        {
            var at = BinaryPrimitives.ReadUInt16BigEndian(cursor.AsSpan(2, 2));
            server = at == ScanFinished ? servers.Length : Math.Min((int)at, servers.Length);
            scan = BinaryPrimitives.ReadUInt64BigEndian(cursor.AsSpan(4, 8));
            var rest = cursor.AsSpan(ScanHeaderLength);
            while (rest.Length > 0)
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(rest);
                var id = Encoding.UTF8.GetString(rest.Slice(4, length));
                if (seen.Add(id))
                {
                    ids.Add(id);
                }

                rest = rest[(4 + length)..];
            }
        }

        var count = Math.Max(query.Limit - ids.Count, 10);
        for (var calls = 0; ids.Count < query.Limit && server < servers.Length && calls < MaxScanCallsPerPage; calls++)
        {
            var reply = (RedisResult[])(await WithTimeout(
                servers[server].ExecuteAsync("SCAN", scan.ToString(CultureInfo.InvariantCulture), "MATCH", (RedisValue)_keys.ScanPattern, "COUNT", count.ToString(CultureInfo.InvariantCulture)),
                start,
                cancellationToken).ConfigureAwait(false))!;
            scan = ulong.Parse((string)reply[0]!, CultureInfo.InvariantCulture);
            if (scan == 0)
            {
                // This primary is done: the next call starts the next one from its beginning.
                server++;
            }

            var found = 0;
            foreach (var key in (RedisResult[])reply[1]!)
            {
                if (_keys.TryGetId((byte[])key!, out var id) && seen.Add(id))
                {
                    ids.Add(id);
                    found++;
                }
            }

            // Few matches (a keyspace shared with other data): visit more keys per call, within a bound.
            count = found == 0 ? Math.Min(count * 2, MaxScanCount) : Math.Max(query.Limit - ids.Count, 10);
        }

        var done = server >= servers.Length;
        var pageIds = ids.Count > query.Limit ? ids.GetRange(0, query.Limit) : ids;
        var pending = ids.Count > query.Limit ? ids.GetRange(query.Limit, ids.Count - query.Limit) : [];
        var snapshots = await ReadAllAsync(database, [.. pageIds], start, cancellationToken).ConfigureAwait(false);
        var nowTime = DateTimeOffset.FromUnixTimeMilliseconds(nowMs);
        var sessions = new List<Session>(pageIds.Count);
        foreach (var session in snapshots)
        {
            if (session is not null && session.IsLiveAt(nowTime) && Matches(session, query))
            {
                sessions.Add(session);
            }
        }

        string? next = null;
        if (!done || pending.Count > 0)
        {
            // Keys SCAN returned beyond the limit ride along in the cursor, so none is skipped.
            var pendingBytes = pending.ConvertAll(Encoding.UTF8.GetBytes);
            var payload = new byte[ScanHeaderLength + pendingBytes.Sum(static b => 4 + b.Length)];
            payload[0] = ScanCursorTag;
            payload[1] = ScanCursorFormat;
            BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(2, 2), done ? ScanFinished : (ushort)server);
            BinaryPrimitives.WriteUInt64BigEndian(payload.AsSpan(4, 8), done ? 0 : scan);
            var at = ScanHeaderLength;
            foreach (var bytes in pendingBytes)
            {
                BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(at, 4), bytes.Length);
                bytes.CopyTo(payload, at + 4);
                at += 4 + bytes.Length;
            }

            next = CursorPrefix + Base64Url.EncodeToString(payload);
        }

        return new SessionPage(sessions, next);
    }

    /// <summary>
    /// The servers a listing visits: every primary the multiplexer knows (on a standalone server, that server), in
    /// ordinal order of their endpoints, so every page of one listing walks them in the same order.
    /// </summary>
    private static IServer[] Primaries(IConnectionMultiplexer multiplexer)
    {
        var servers = Array.FindAll(multiplexer.GetServers(), static s => !s.IsReplica);
        var names = Array.ConvertAll(servers, static s => s.EndPoint.ToString() ?? string.Empty);
        Array.Sort(names, servers, StringComparer.Ordinal);
        return servers;
    }

    /// <summary>Reads many sessions with pipelined <c>HGETALL</c>s; an absent or unreadable one is <see langword="null"/>.</summary>
    private async Task<Session?[]> ReadAllAsync(IDatabase database, string[] ids, long start, CancellationToken cancellationToken)
    {
        var reads = new Task<HashEntry[]>[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            reads[i] = _keys.TrySessionKey(ids[i], out var key) ? ReadOneAsync(database, ids[i], key) : Task.FromResult(Array.Empty<HashEntry>());
        }

        var results = await WithTimeout(Task.WhenAll(reads), start, cancellationToken).ConfigureAwait(false);
        var sessions = new Session?[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            sessions[i] = Decode(OpQuery, ids[i], results[i]);
        }

        return sessions;
    }

    /// <summary>One session's hash for a page; a value of another type reads as absent (and is removed), never failing the page.</summary>
    private async Task<HashEntry[]> ReadOneAsync(IDatabase database, string id, RedisKey key)
    {
        try
        {
            return await database.HashGetAllAsync(key).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (IsWrongType(ex))
        {
            await DropForeignAsync(id, key, OpQuery).ConfigureAwait(false);
            return [];
        }
    }

    private static bool Matches(Session session, SessionQuery query) =>
        query.Kind is null || string.Equals(session.Kind, query.Kind, StringComparison.Ordinal);

    /// <summary>Decodes and checks a cursor; it must come from this store and from the same kind of query.</summary>
    private static byte[]? DecodeCursor(SessionQuery query)
    {
        if (query.Cursor is null)
        {
            return null;
        }

        byte[] payload;
        try
        {
            payload = query.Cursor.StartsWith(CursorPrefix, StringComparison.Ordinal)
                ? Base64Url.DecodeFromChars(query.Cursor.AsSpan(CursorPrefix.Length))
                : [];
        }
        catch (FormatException)
        {
            payload = [];
        }

        var valid = payload.Length > 0 && (query.UserId is not null
            ? payload[0] == UserCursorTag && payload.Length >= 9
            : payload[0] == ScanCursorTag && payload.Length >= ScanHeaderLength && payload[1] == ScanCursorFormat && PendingIsWellFormed(payload.AsSpan(ScanHeaderLength)));
        return valid ? payload : throw new ArgumentException("The cursor was not produced by this store for this kind of query.", nameof(query));
    }

    private static bool PendingIsWellFormed(ReadOnlySpan<byte> rest)
    {
        while (rest.Length > 0)
        {
            if (rest.Length < 4)
            {
                return false;
            }

            var length = BinaryPrimitives.ReadInt32BigEndian(rest);
            if (length <= 0 || length > rest.Length - 4)
            {
                return false;
            }

            rest = rest[(4 + length)..];
        }

        return true;
    }
}
