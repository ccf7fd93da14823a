using System.Collections.Concurrent;

namespace SessionKit.Tests;

/// <summary>A decorator that counts calls per store operation, to assert what reaches a store.</summary>
public sealed class CountingSessionStore(ISessionStore inner) : ISessionStore
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);

    public ISessionStore Inner { get; } = inner;

    public string Name => Inner.Name;

    public int Calls(string operation) => _calls.TryGetValue(operation, out var n) ? n : 0;

    public int TotalCalls => _calls.Values.Sum();

    public void Reset() => _calls.Clear();

    public ValueTask<bool> CreateAsync(Session session, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        Count("create");
        return Inner.CreateAsync(session, now, cancellationToken);
    }

    public ValueTask<Session?> GetAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        Count("get");
        return Inner.GetAsync(id, now, cancellationToken);
    }

    public ValueTask<bool> TouchAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        Count("touch");
        return Inner.TouchAsync(id, now, cancellationToken);
    }

    public ValueTask<SessionUpdateResult> UpdateAsync(string id, SessionChanges changes, DateTimeOffset now, long maxStateBytes, CancellationToken cancellationToken = default)
    {
        Count("update");
        return Inner.UpdateAsync(id, changes, now, maxStateBytes, cancellationToken);
    }

    public ValueTask<Session?> DeleteAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        Count("delete");
        return Inner.DeleteAsync(id, now, cancellationToken);
    }

    public ValueTask<bool> ExistsAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        Count("exists");
        return Inner.ExistsAsync(id, now, cancellationToken);
    }

    public ValueTask<SessionPage> QueryAsync(SessionQuery query, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        Count("query");
        return Inner.QueryAsync(query, now, cancellationToken);
    }

    public ValueTask<IReadOnlyList<Session>> RemoveExpiredAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken = default)
    {
        Count("remove_expired");
        return Inner.RemoveExpiredAsync(now, maxCount, cancellationToken);
    }

    private void Count(string operation) => _calls.AddOrUpdate(operation, 1, static (_, n) => n + 1);
}
