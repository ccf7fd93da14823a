using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace SessionKit.Internal;

/// <summary>
/// An immutable string-keyed map stored as two arrays sorted by ordinal key: cheap to build (one copy and a small
/// sort, no hashing analysis), compact (two arrays per map), and read by linear scan for a few keys or binary search
/// beyond. Session snapshots are rebuilt on every decode and merge, so construction cost matters more than lookups.
/// </summary>
internal sealed class ReadOnlyMap<TValue> : IReadOnlyDictionary<string, TValue>
{
    private const int LinearScanLimit = 8;

    private readonly string[] _keys;
    private readonly TValue[] _values;

    private ReadOnlyMap(string[] keys, TValue[] values)
    {
        _keys = keys;
        _values = values;
    }

    public static ReadOnlyMap<TValue> Empty { get; } = new([], []);

    public int Count => _keys.Length;

    public IEnumerable<string> Keys => _keys;

    public IEnumerable<TValue> Values => _values;

    public TValue this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"The key '{key}' is not present.");

    /// <summary>Copies entries into a new map. Later duplicates of a key replace earlier ones.</summary>
    public static ReadOnlyMap<TValue> From(IEnumerable<KeyValuePair<string, TValue>> entries)
    {
        var list = entries is IReadOnlyCollection<KeyValuePair<string, TValue>> collection
            ? new List<KeyValuePair<string, TValue>>(collection.Count)
            : [];
        list.AddRange(entries);
        if (list.Count == 0)
        {
            return Empty;
        }

        // Stable sort keeps insertion order among equal keys, so the last duplicate can win below.
        var ordered = list.Select(static (pair, index) => (pair, index))
            .OrderBy(static p => p.pair.Key, StringComparer.Ordinal)
            .ThenBy(static p => p.index)
            .ToList();
        var keys = new List<string>(ordered.Count);
        var values = new List<TValue>(ordered.Count);
        foreach (var (pair, _) in ordered)
        {
            ArgumentNullException.ThrowIfNull(pair.Key, "key");
            if (keys.Count > 0 && string.Equals(keys[^1], pair.Key, StringComparison.Ordinal))
            {
                values[^1] = pair.Value;
            }
            else
            {
                keys.Add(pair.Key);
                values.Add(pair.Value);
            }
        }

        return new ReadOnlyMap<TValue>([.. keys], [.. values]);
    }

    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out TValue value)
    {
        var index = IndexOf(key);
        if (index < 0)
        {
            value = default;
            return false;
        }

        value = _values[index];
        return true;
    }

    public IEnumerator<KeyValuePair<string, TValue>> GetEnumerator()
    {
        for (var i = 0; i < _keys.Length; i++)
        {
            yield return new KeyValuePair<string, TValue>(_keys[i], _values[i]);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private int IndexOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_keys.Length <= LinearScanLimit)
        {
            for (var i = 0; i < _keys.Length; i++)
            {
                if (string.Equals(_keys[i], key, StringComparison.Ordinal))
                {
                    return i;
                }
            }

            return -1;
        }

        var found = Array.BinarySearch(_keys, key, StringComparer.Ordinal);
        return found >= 0 ? found : -1;
    }
}
