using System.Text;
using System.Text.Json;

namespace SessionKit.Internal;

/// <summary>Measures session state the same way on every store.</summary>
internal static class SessionStateSize
{
    public static long Measure(IReadOnlyDictionary<string, JsonElement> state)
    {
        long total = 0;
        foreach (var (key, value) in state)
        {
            total += Measure(key, value);
        }

        return total;
    }

    public static long Measure(string key, JsonElement value) =>
        Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(value.GetRawText());
}
