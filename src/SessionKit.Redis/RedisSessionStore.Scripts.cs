using System.Security.Cryptography;
using System.Text;
using SessionKit.Redis.Internal;
using StackExchange.Redis;

namespace SessionKit.Redis;

public sealed partial class RedisSessionStore
{
    /// <summary>
    /// The Lua scripts. Each declares the session hash and at most its bucket's expiry set, which share the bucket's
    /// hash tag, so none ever spans two cluster slots; a user index is written by its own script (see the type's
    /// remarks for how it stays correct). Logical expiry
    /// is decided against the caller's <c>now</c> (ARGV[1], Unix ms); the server TTL is a relative <c>PEXPIRE</c> of
    /// (expiry − now) + grace, so a skew between the application's and Redis's clocks cannot reap a live session.
    /// No script calls <c>redis.setresp(3)</c>, so their replies read the same over RESP2 and RESP3 (a Lua
    /// <c>false</c>, "no user", arrives as a null either way); the conformance suite runs over both.
    /// </summary>
    internal static class Scripts
    {
        private const string Prelude = """
            local FORMAT = 1
            local function expiry(la, idle, abs)
              la = tonumber(la)
              idle = tonumber(idle)
              if not la or not idle or idle <= 0 then return nil end
              local e = la + idle
              if abs then
                local cap = tonumber(abs)
                if not cap then return nil end
                if cap < e then e = cap end
              end
              return e
            end
            local function ttl(e, now, grace)
              local t = e - now
              if t < 0 then t = 0 end
              return t + grace
            end
            local function foreign(reply)
              return type(reply) == 'table' and reply.err ~= nil
            end
            local function chunked(cmd, key, list)
              local i = 1
              local n = #list
              while i <= n do
                local j = math.min(i + 999, n)
                redis.call(cmd, key, unpack(list, i, j))
                i = j + 1
              end
            end

            """;

        /// <summary>
        /// Create-if-absent. KEYS: the session hash, its bucket's expiry set. ARGV: now, grace, expires, id, then
        /// field/value pairs. An expired or unreadable record with the same id is replaced; the expiry entry is written
        /// in the same step. Returns {1, replaced uid} or {0, live uid, live expiry} on a collision.
        /// </summary>
        public static readonly RedisScript Create = new("create", Prelude + """
            local cur = redis.pcall('HMGET', KEYS[1], 'v', 'la', 'idle', 'abs', 'uid')
            local now = tonumber(ARGV[1])
            local replaced = false
            if foreign(cur) then
              redis.call('DEL', KEYS[1])
            elseif cur[1] or cur[2] or cur[3] or cur[4] or cur[5] or redis.call('EXISTS', KEYS[1]) == 1 then
              local e = expiry(cur[2], cur[3], cur[4])
              if e and e > now then return {0, cur[5], e} end
              replaced = cur[5]
              redis.call('DEL', KEYS[1])
            end
            local fields = {}
            for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
            chunked('HSET', KEYS[1], fields)
            redis.call('PEXPIRE', KEYS[1], ttl(tonumber(ARGV[3]), now, tonumber(ARGV[2])))
            redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
            return {1, replaced}
            """);

        /// <summary>
        /// Slide if live: la = max(la, now), TTL re-armed. Never re-creates. KEYS: the session hash. ARGV: now, grace.
        /// Returns 1 or 0.
        /// </summary>
        public static readonly RedisScript Touch = new("touch", Prelude + """
            local h = redis.pcall('HMGET', KEYS[1], 'v', 'la', 'idle', 'abs')
            if foreign(h) or tonumber(h[1]) ~= FORMAT then return 0 end
            local now = tonumber(ARGV[1])
            local e = expiry(h[2], h[3], h[4])
            if not e or e <= now then return 0 end
            if now > tonumber(h[2]) then
              redis.call('HSET', KEYS[1], 'la', ARGV[1])
              e = expiry(ARGV[1], h[3], h[4])
            end
            redis.call('PEXPIRE', KEYS[1], ttl(e, now, tonumber(ARGV[2])))
            return 1
            """);

        /// <summary>
        /// Update-if-live with per-key merge and optional compare-and-set, reading only the fixed fields (one
        /// <c>HMGET</c>) and the old length of each changed state value (<c>HSTRLEN</c>): the state size is kept in
        /// <c>sz</c>, so the check costs nothing per unchanged value. KEYS: the session hash. ARGV: now, grace,
        /// expected version or '', max state bytes, user op ('' / 's' / 'c'), user, kind op, kind, state changed
        /// ('1'/'0'), n, absolute-expiry cap (Unix ms) or '', the caller's known snapshot ("n:ver") or '', the state
        /// size after the change as the caller computed it from that snapshot or '' (used only when the snapshot is
        /// confirmed, saving the HSTRLEN reads), n field/value pairs, m, m fields to remove. Returns {2, old uid, expiry, version, la, abs} when the hash was the
        /// caller's known snapshot (the caller applies the changes itself), else {1, old uid, expiry, field, value, ...}
        /// (the new hash); {0} not found, {-1, version, uid, expiry} conflict, {-2, size, uid, expiry} state too large,
        /// {-3, version, uid, expiry, field, value, ...} a rotation forwarder (never changed; the hash as it is).
        /// </summary>
        public static readonly RedisScript Update = new("update", Prelude + """
            local h = redis.pcall('HMGET', KEYS[1], 'v', 'ver', 'la', 'idle', 'abs', 'uid', 'n', 'sz', 'b:sessionkit.rotated_to')
            if foreign(h) then return {0} end
            local now = tonumber(ARGV[1])
            local ver = tonumber(h[2])
            local e = expiry(h[3], h[4], h[5])
            if tonumber(h[1]) ~= FORMAT or not ver or not e or e <= now then return {0} end
            local old_uid = h[6] or false
            local function whole(out)
              local flat = redis.call('HGETALL', KEYS[1])
              for i = 1, #flat do out[#out + 1] = flat[i] end
              return out
            end
            if h[9] then return whole({-3, ver, old_uid, e}) end
            if ARGV[3] ~= '' and tonumber(ARGV[3]) ~= ver then return {-1, ver, old_uid, e} end
            local known = ARGV[12] ~= '' and h[7] and ARGV[12] == h[7] .. ':' .. h[2]
            local checking = ARGV[9] == '1'
            local exact = checking and known and ARGV[13] ~= ''
            local size = tonumber(h[8])
            if exact then
              size = tonumber(ARGV[13])
            elseif checking and not size then
              size = 0
              local flat = redis.call('HGETALL', KEYS[1])
              for i = 1, #flat, 2 do
                if string.sub(flat[i], 1, 2) == 's:' then size = size + #flat[i] - 2 + #flat[i + 1] end
              end
            end
            local sets = {}
            local dels = {}
            local abs = h[5]
            if ARGV[11] ~= '' then
              local cap = tonumber(ARGV[11])
              if not tonumber(abs) or cap < tonumber(abs) then
                abs = ARGV[11]
                sets[#sets + 1] = 'abs'
                sets[#sets + 1] = abs
              end
            end
            local i = 14
            for _ = 1, tonumber(ARGV[10]) do
              local f = ARGV[i]
              if checking and not exact and string.sub(f, 1, 2) == 's:' then
                local old = redis.call('HSTRLEN', KEYS[1], f)
                if old > 0 then size = size - old else size = size + #f - 2 end
                size = size + #ARGV[i + 1]
              end
              sets[#sets + 1] = f
              sets[#sets + 1] = ARGV[i + 1]
              i = i + 2
            end
            local m = tonumber(ARGV[i])
            i = i + 1
            for _ = 1, m do
              local f = ARGV[i]
              if checking and not exact and string.sub(f, 1, 2) == 's:' then
                local old = redis.call('HSTRLEN', KEYS[1], f)
                if old > 0 then size = size - old - (#f - 2) end
              end
              dels[#dels + 1] = f
              i = i + 1
            end
            if ARGV[5] == 's' then
              sets[#sets + 1] = 'uid'
              sets[#sets + 1] = ARGV[6]
            elseif ARGV[5] == 'c' then
              dels[#dels + 1] = 'uid'
            end
            if ARGV[7] == 's' then
              sets[#sets + 1] = 'kind'
              sets[#sets + 1] = ARGV[8]
            elseif ARGV[7] == 'c' then
              dels[#dels + 1] = 'kind'
            end
            if checking then
              if size > tonumber(ARGV[4]) then return {-2, size, old_uid, e} end
              sets[#sets + 1] = 'sz'
              sets[#sets + 1] = size
            end
            local la = h[3]
            if now > tonumber(la) then
              la = ARGV[1]
              sets[#sets + 1] = 'la'
              sets[#sets + 1] = la
            end
            ver = ver + 1
            sets[#sets + 1] = 'ver'
            sets[#sets + 1] = ver
            if #dels > 0 then chunked('HDEL', KEYS[1], dels) end
            chunked('HSET', KEYS[1], sets)
            e = expiry(la, h[4], abs)
            redis.call('PEXPIRE', KEYS[1], ttl(e, now, tonumber(ARGV[2])))
            if known then return {2, old_uid, e, ver, la, abs or false} end
            return whole({1, old_uid, e})
            """);

        /// <summary>
        /// Deletes the hash and its expiry entry. KEYS: the session hash, its bucket's expiry set. ARGV: now, id.
        /// Returns {live ? 1 : 0, uid, existed ? 1 : 0, field, value, ...} (the hash as removed, when live).
        /// </summary>
        public static readonly RedisScript Delete = new("delete", Prelude + """
            redis.call('ZREM', KEYS[2], ARGV[2])
            local cur = redis.pcall('HMGET', KEYS[1], 'v', 'la', 'idle', 'abs', 'uid')
            if foreign(cur) then
              redis.call('DEL', KEYS[1])
              return {0, false, 1}
            end
            local e = expiry(cur[2], cur[3], cur[4])
            local live = 0
            if tonumber(cur[1]) == FORMAT and e and e > tonumber(ARGV[1]) then live = 1 end
            local out = {live, cur[5], 1}
            if live == 1 then
              local flat = redis.call('HGETALL', KEYS[1])
              for i = 1, #flat do out[#out + 1] = flat[i] end
            end
            if redis.call('DEL', KEYS[1]) == 0 then return {0, false, 0} end
            return out
            """);

        /// <summary>
        /// Compare-and-delete for the sweep: deletes only if the record is still expired at now, and keeps the bucket's
        /// expiry set in step. KEYS: the session hash, its bucket's expiry set. ARGV: now, id. Returns {0} absent,
        /// {-1} unreadable (left alone), {1, expiry, uid} live (touched since it was scheduled; re-scored),
        /// {2, uid, field, value, ...} removed, with the hash as it was, {3} a value of another type, removed.
        /// </summary>
        public static readonly RedisScript Sweep = new("sweep", Prelude + """
            local cur = redis.pcall('HMGET', KEYS[1], 'v', 'la', 'idle', 'abs', 'uid')
            if foreign(cur) then
              redis.call('DEL', KEYS[1])
              redis.call('ZREM', KEYS[2], ARGV[2])
              return {3}
            end
            if redis.call('EXISTS', KEYS[1]) == 0 then
              redis.call('ZREM', KEYS[2], ARGV[2])
              return {0}
            end
            local e = expiry(cur[2], cur[3], cur[4])
            if tonumber(cur[1]) ~= FORMAT or not e then
              redis.call('ZREM', KEYS[2], ARGV[2])
              return {-1}
            end
            if e > tonumber(ARGV[1]) then
              redis.call('ZADD', KEYS[2], e, ARGV[2])
              return {1, e, cur[5]}
            end
            local flat = redis.call('HGETALL', KEYS[1])
            redis.call('DEL', KEYS[1])
            redis.call('ZREM', KEYS[2], ARGV[2])
            local out = {2, cur[5]}
            for i = 1, #flat do out[#out + 1] = flat[i] end
            return out
            """);

        /// <summary>Removes a value of another type from a session key (never a hash: a session written meanwhile stays). Returns 1 when removed.</summary>
        public static readonly RedisScript DropForeign = new("drop-foreign", """
            local t = redis.call('TYPE', KEYS[1])
            if t['ok'] ~= 'none' and t['ok'] ~= 'hash' then return redis.call('DEL', KEYS[1]) end
            return 0
            """);

        /// <summary>
        /// Adds or re-scores a user-index entry and keeps the index key alive no longer than its latest entry needs:
        /// its TTL becomes at least score − now + grace (relative, from the manager's clock), so the index of a user
        /// whose sessions all lapsed before any sweep expires with them. ARGV: id, score (Unix ms), now, grace.
        /// </summary>
        public static readonly RedisScript IndexUser = new("index-user", """
            redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
            local want = tonumber(ARGV[2]) - tonumber(ARGV[3]) + tonumber(ARGV[4])
            if want < 1 then want = 1 end
            local t = redis.call('PTTL', KEYS[1])
            if t == -1 or t < want then redis.call('PEXPIRE', KEYS[1], want) end
            return 1
            """);

        /// <summary>Gets every script, for tests and diagnostics.</summary>
        public static IReadOnlyList<RedisScript> All { get; } = [Create, Touch, Update, Delete, Sweep, DropForeign, IndexUser];
    }

    /// <summary>Runs a script by its SHA-1; on <c>NOSCRIPT</c> (a restarted or flushed server) sends its text once, which caches it again.</summary>
    private Task<RedisResult> EvaluateAsync(IDatabase database, RedisScript script, RedisKey key, RedisValue[] args) =>
        EvaluateAsync(database, script, [key], args);

    /// <summary>Runs a script over keys of one slot (a session hash and its bucket's expiry set); see the one-key overload.</summary>
    private async Task<RedisResult> EvaluateAsync(IDatabase database, RedisScript script, RedisKey[] keys, RedisValue[] args)
    {
        try
        {
            return await database.ScriptEvaluateAsync(script.Hash, keys, args).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            Log.ScriptReloaded(_logger, script.Name);
            var evalArgs = new object[args.Length + keys.Length + 2];
            evalArgs[0] = script.Text;
            evalArgs[1] = keys.Length;
            keys.CopyTo(evalArgs, 2);
            for (var i = 0; i < args.Length; i++)
            {
                evalArgs[i + keys.Length + 2] = args[i];
            }

            return await database.ExecuteAsync("EVAL", evalArgs).ConfigureAwait(false);
        }
    }
}

/// <summary>A Lua script and the SHA-1 Redis caches it under.</summary>
internal sealed class RedisScript
{
    public RedisScript(string name, string text)
    {
        Name = name;
        Text = text;
#pragma warning disable CA5350 // Redis names cached scripts by their SHA-1; this is an identifier, not a security use.
        Hash = SHA1.HashData(Encoding.UTF8.GetBytes(text));
#pragma warning restore CA5350
    }

    public string Name { get; }

    public string Text { get; }

    public byte[] Hash { get; }

    public string HashHex => Convert.ToHexStringLower(Hash);
}
