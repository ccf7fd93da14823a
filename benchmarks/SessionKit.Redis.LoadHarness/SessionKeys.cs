using System.Globalization;
using System.Text;
using StackExchange.Redis;

/// <summary>
/// Finds the Redis hash that holds each pool session without knowing the store's key layout: every pool session
/// carries a metadata marker with its index, and the harness scans the store's prefix for hashes holding a marker.
/// </summary>
internal static class SessionKeys
{
    public const string MarkerKey = "harness-marker";

    /// <summary>Gets the marker of pool session <paramref name="index"/> of a run (letters and digits only, fixed width).</summary>
    public static string Marker(string run, int index) => string.Create(CultureInfo.InvariantCulture, $"mark{run}x{index:D6}y");

    public static async Task<RedisKey[]> FindAsync(IConnectionMultiplexer multiplexer, string prefix, string run, int count)
    {
        var server = multiplexer.GetServer(multiplexer.GetEndPoints()[0]);
        var database = multiplexer.GetDatabase();
        var keys = new List<RedisKey>();
        await foreach (var key in server.KeysAsync(pattern: prefix + "*", pageSize: 1000))
        {
            keys.Add(key);
        }

        var types = await Task.WhenAll(keys.Select(k => database.KeyTypeAsync(k)));
        var hashes = keys.Where((_, i) => types[i] == RedisType.Hash).ToArray();
        var contents = await Task.WhenAll(hashes.Select(k => database.HashGetAllAsync(k)));
        var needle = Encoding.ASCII.GetBytes(Marker(run, 0)[..^7]);
        var found = new RedisKey?[count];
        for (var h = 0; h < hashes.Length; h++)
        {
            foreach (var entry in contents[h])
            {
                var value = (byte[]?)entry.Value ?? [];
                var at = value.AsSpan().IndexOf(needle);
                if (at >= 0 && at + needle.Length + 6 <= value.Length
                    && int.TryParse(value.AsSpan(at + needle.Length, 6), NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < count)
                {
                    found[index] = found[index] is null ? hashes[h] : throw new InvalidOperationException($"Two hashes hold the marker of pool session {index}.");
                }
            }
        }

        var missing = Array.FindIndex(found, static k => k is null);
        return missing < 0 ? [.. found.Select(static k => k!.Value)] : throw new InvalidOperationException(
            $"No hash under the prefix holds pool session {missing}'s marker: the store no longer keeps a session as one hash with its metadata in clear. Update SessionKeys.");
    }
}
