using System.Buffers.Text;
using System.Security.Cryptography;
using SessionKit;

/// <summary>
/// Writes caused by reads: one hot session, last slid outside the touch threshold, read by every caller for the
/// duration. The commands the client sent are counted (profiling on); a get should send one read command and the
/// whole run at most one touch.
/// </summary>
internal static class HotSession
{
    // Commands that only read; any other command a get sends is a write (a touch, or a script that may write).
    private static readonly HashSet<string> ReadOnly = new(StringComparer.Ordinal) { "hgetall", "hmget", "hget", "hexists", "hlen", "get", "mget", "exists", "ttl", "pttl", "eval_ro", "evalsha_ro", "fcall_ro" };

    /// <summary>Returns the gets and the write commands they sent (awaited or fire-and-forget).</summary>
    public static async Task<(long Reads, long Writes)> MeasureAsync(SentCommands sent, ISessionStore store, SessionManager manager, Session template, int callers, TimeSpan duration)
    {
        // One stale session read once first, so the touch script is loaded and its first use sends no NOSCRIPT retry.
        await manager.GetAsync((await CreateStaleAsync(store, template)).Id);
        var hot = await CreateStaleAsync(store, template);
        var counted = await sent.CountAsync(() => Load.RunAsync(async _ => await manager.GetAsync(hot.Id), callers, duration, poolSize: 1));
        var writes = counted.Awaited.Concat(counted.FireAndForget).Where(static c => !ReadOnly.Contains(c.Key)).Sum(static c => c.Value);
        return (counted.Operations, writes);
    }

    private static async Task<Session> CreateStaleAsync(ISessionStore store, Session template)
    {
        var stale = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()) - TimeSpan.FromMinutes(3);
        var session = template with { Id = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)), CreatedAt = stale, LastAccessedAt = stale };
        return await store.CreateAsync(session, stale) ? session : throw new InvalidOperationException("The hot session was not created.");
    }
}
