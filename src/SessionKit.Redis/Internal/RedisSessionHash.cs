using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using StackExchange.Redis;

namespace SessionKit.Redis.Internal;

/// <summary>
/// The layout of one session hash. Fixed fields: <c>v</c> (format version), <c>uid</c>, <c>kind</c>, <c>ca</c>,
/// <c>la</c> (created / last accessed, Unix ms), <c>idle</c> (ms), <c>abs</c> (absolute expiry, Unix ms, absent when
/// none), <c>ver</c>, <c>n</c> (a random nonce naming this incarnation of the id, so a snapshot of an earlier session
/// with the same id and version is never taken for this one) and <c>sz</c> (the state size the update script checks
/// against the limit, kept incrementally); then one field per entry: <c>m:{key}</c> metadata, <c>s:{key}</c> state (raw JSON text),
/// <c>b:{key}</c> binding data. A per-key merge is therefore one <c>HSET</c>/<c>HDEL</c>.
/// </summary>
internal static class RedisSessionHash
{
    /// <summary>The hash layout version this release writes and reads (the scripts check it too).</summary>
    public const int FormatVersion = 1;

    public const string MetadataPrefix = "m:";
    public const string StatePrefix = "s:";
    public const string BindingPrefix = "b:";

    /// <summary>Converts a timestamp to the stored Unix milliseconds (timestamps are kept at millisecond precision).</summary>
    public static long ToMs(DateTimeOffset value) => value.ToUnixTimeMilliseconds();

    /// <summary>Converts an idle timeout to stored milliseconds, rounding a sub-millisecond remainder up.</summary>
    public static long ToMs(TimeSpan value) => (value.Ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond;

    /// <summary>Computes the expiry exactly as the scripts do: min(la + idle, abs), in Unix ms.</summary>
    public static long ExpiresMs(Session session)
    {
        var sliding = ToMs(session.LastAccessedAt) + ToMs(session.IdleTimeout);
        return session.AbsoluteExpiresAt is { } abs && ToMs(abs) < sliding ? ToMs(abs) : sliding;
    }

    /// <summary>Writes the field/value pairs of a whole session.</summary>
    public static void AppendFields(Session session, List<RedisValue> target)
    {
        target.Add("v");
        target.Add(FormatVersion);
        target.Add("ca");
        target.Add(ToMs(session.CreatedAt));
        target.Add("la");
        target.Add(ToMs(session.LastAccessedAt));
        target.Add("idle");
        target.Add(ToMs(session.IdleTimeout));
        target.Add("ver");
        target.Add(session.Version);
        target.Add("n");
        target.Add(RandomNumberGenerator.GetHexString(16, lowercase: true));
        target.Add("sz");
        target.Add(session.GetStateSize());
        if (session.AbsoluteExpiresAt is { } abs)
        {
            target.Add("abs");
            target.Add(ToMs(abs));
        }

        if (session.UserId is not null)
        {
            target.Add("uid");
            target.Add(session.UserId);
        }

        if (session.Kind is not null)
        {
            target.Add("kind");
            target.Add(session.Kind);
        }

        foreach (var (key, value) in session.Metadata)
        {
            target.Add(MetadataPrefix + key);
            target.Add(value);
        }

        foreach (var (key, value) in session.State)
        {
            target.Add(StatePrefix + key);
            target.Add(value.GetRawText());
        }

        foreach (var (key, value) in session.Binding)
        {
            target.Add(BindingPrefix + key);
            target.Add(value);
        }
    }

    /// <summary>Reads a hash returned by <c>HGETALL</c>.</summary>
    public static Session? Decode(string id, HashEntry[] entries, out string? error)
    {
        var reader = new Reader();
        foreach (var entry in entries)
        {
            if (!reader.Add(entry.Name, entry.Value))
            {
                break;
            }
        }

        return reader.Build(id, out error);
    }

    /// <summary>Reads a flat field/value array returned by a script, starting at <paramref name="offset"/>.</summary>
    public static Session? Decode(string id, RedisResult[] flat, int offset, out string? error)
    {
        var reader = new Reader();
        if ((flat.Length - offset) % 2 != 0)
        {
            error = "the script returned an odd number of hash items";
            return null;
        }

        for (var i = offset; i < flat.Length; i += 2)
        {
            if (!reader.Add((RedisValue)flat[i], (RedisValue)flat[i + 1]))
            {
                break;
            }
        }

        return reader.Build(id, out error);
    }

    /// <summary>Reads whatever depth was stored (the array wrapper adds one level); parsing is iterative, so depth costs no stack.</summary>
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 4096 };

    private struct Reader
    {
        private long? _version;
        private long? _createdMs;
        private long? _lastAccessMs;
        private long? _idleMs;
        private long? _absoluteMs;
        private long? _dataVersion;
        private string? _userId;
        private string? _kind;
        private Dictionary<string, string>? _metadata;
        private List<(string Key, byte[] Json)>? _state;
        private int _stateBytes;
        private Dictionary<string, string>? _binding;
        private string? _error;

        public bool Add(RedisValue name, RedisValue value)
        {
            byte[] field = name!;
            byte[] data = value!;
            if (field is null || data is null)
            {
                _error = "a field or value is missing";
                return false;
            }

            if (field.Length > 2 && field[1] == (byte)':')
            {
                var key = Encoding.UTF8.GetString(field, 2, field.Length - 2);
                switch (field[0])
                {
                    case (byte)'m':
                        (_metadata ??= new(StringComparer.Ordinal))[key] = Encoding.UTF8.GetString(data);
                        return true;
                    case (byte)'b':
                        (_binding ??= new(StringComparer.Ordinal))[key] = Encoding.UTF8.GetString(data);
                        return true;
                    case (byte)'s':
                        // Parsed together in Build: one JSON document for all state values costs half of one per value.
                        (_state ??= []).Add((key, data));
                        _stateBytes += data.Length;
                        return true;
                }
            }

            var span = field.AsSpan();
            var ok = true;
            if (span.SequenceEqual("v"u8))
            {
                ok = TryParse(data, out _version);
            }
            else if (span.SequenceEqual("la"u8))
            {
                ok = TryParse(data, out _lastAccessMs);
            }
            else if (span.SequenceEqual("ver"u8))
            {
                ok = TryParse(data, out _dataVersion);
            }
            else if (span.SequenceEqual("idle"u8))
            {
                ok = TryParse(data, out _idleMs);
            }
            else if (span.SequenceEqual("ca"u8))
            {
                ok = TryParse(data, out _createdMs);
            }
            else if (span.SequenceEqual("abs"u8))
            {
                ok = TryParse(data, out _absoluteMs);
            }
            else if (span.SequenceEqual("uid"u8))
            {
                _userId = Encoding.UTF8.GetString(data);
            }
            else if (span.SequenceEqual("kind"u8))
            {
                _kind = Encoding.UTF8.GetString(data);
            }

            // Unknown fields are ignored: a later minor layout may add some.
            if (!ok)
            {
                _error = "a numeric field is not an integer";
            }

            return ok;
        }

        public readonly Session? Build(string id, out string? error)
        {
            error = _error;
            if (error is not null)
            {
                return null;
            }

            if (_version is null && _lastAccessMs is null && _createdMs is null)
            {
                // Absent (an empty HGETALL), not malformed.
                return null;
            }

            if (_version != FormatVersion)
            {
                error = _version is null ? "the hash has no format version" : "the hash has an unsupported format version";
                return null;
            }

            if (_createdMs is not { } created || _lastAccessMs is not { } lastAccess || _idleMs is not { } idle || idle <= 0 || _dataVersion is not { } dataVersion || dataVersion <= 0)
            {
                error = "the hash is incomplete (timestamps, idle timeout or version missing)";
                return null;
            }

            Dictionary<string, JsonElement>? state = null;
            if (_state is not null && !TryParseState(_state, _stateBytes, out state))
            {
                error = "a state value is not valid JSON";
                return null;
            }

            try
            {
                return new Session
                {
                    Id = id,
                    UserId = _userId,
                    Kind = _kind,
                    CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(created),
                    LastAccessedAt = DateTimeOffset.FromUnixTimeMilliseconds(lastAccess),
                    IdleTimeout = TimeSpan.FromMilliseconds(idle),
                    AbsoluteExpiresAt = _absoluteMs is { } abs ? DateTimeOffset.FromUnixTimeMilliseconds(abs) : null,
                    Version = dataVersion,
                    Metadata = _metadata!,
                    State = state!,
                    Binding = _binding!,
                };
            }
            catch (ArgumentOutOfRangeException)
            {
                error = "a timestamp is out of range";
                return null;
            }
        }

        private static bool TryParse(byte[] data, out long? value)
        {
            if (Utf8Parser.TryParse(data, out long parsed, out var consumed) && consumed == data.Length)
            {
                value = parsed;
                return true;
            }

            value = null;
            return false;
        }

        /// <summary>
        /// Parses every state value at once as the elements of one JSON array. A value that is not exactly one JSON
        /// value breaks the array or changes its element count, so each is still validated on its own terms.
        /// </summary>
        private static bool TryParseState(List<(string Key, byte[] Json)> values, int totalBytes, out Dictionary<string, JsonElement>? state)
        {
            state = null;
            var buffer = new byte[totalBytes + values.Count + 1];
            buffer[0] = (byte)'[';
            var at = 1;
            foreach (var (_, json) in values)
            {
                json.CopyTo(buffer, at);
                at += json.Length;
                buffer[at++] = (byte)',';
            }

            buffer[at - 1] = (byte)']';
            try
            {
                using var document = JsonDocument.Parse(buffer, ParseOptions);
                var array = document.RootElement;
                if (array.GetArrayLength() != values.Count)
                {
                    return false;
                }

                // Clone detaches the elements from the pooled document, which is returned on dispose.
                var detached = array.Clone();
                state = new Dictionary<string, JsonElement>(values.Count, StringComparer.Ordinal);
                var i = 0;
                foreach (var element in detached.EnumerateArray())
                {
                    state[values[i++].Key] = element;
                }

                return true;
            }
            catch (JsonException)
            {
                return false;
            }
        }
    }
}
