namespace SessionKit.Tests;

/// <summary>A store decorator whose members tests override to inject races and faults.</summary>
public abstract class DelegatingStore(ISessionStore inner) : ISessionStore
{
    protected ISessionStore Inner { get; } = inner;

    public virtual string Name => Inner.Name;

    public virtual ValueTask<bool> CreateAsync(Session session, DateTimeOffset now, CancellationToken cancellationToken = default) => Inner.CreateAsync(session, now, cancellationToken);

    public virtual ValueTask<Session?> GetAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default) => Inner.GetAsync(id, now, cancellationToken);

    public virtual ValueTask<bool> TouchAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default) => Inner.TouchAsync(id, now, cancellationToken);

    public virtual ValueTask<SessionUpdateResult> UpdateAsync(string id, SessionChanges changes, DateTimeOffset now, long maxStateBytes, CancellationToken cancellationToken = default) => Inner.UpdateAsync(id, changes, now, maxStateBytes, cancellationToken);

    public virtual ValueTask<Session?> DeleteAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default) => Inner.DeleteAsync(id, now, cancellationToken);

    public virtual ValueTask<bool> ExistsAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default) => Inner.ExistsAsync(id, now, cancellationToken);

    public virtual ValueTask<SessionPage> QueryAsync(SessionQuery query, DateTimeOffset now, CancellationToken cancellationToken = default) => Inner.QueryAsync(query, now, cancellationToken);

    public virtual ValueTask<IReadOnlyList<Session>> RemoveExpiredAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken = default) => Inner.RemoveExpiredAsync(now, maxCount, cancellationToken);
}
