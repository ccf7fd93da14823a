using System.Collections.Concurrent;

namespace SessionKit.Stores;

// Invariant: a session in _sessions whose UserId is U has its id in _byUser[U]. Every write that changes which
// user a slot belongs to (insert, replace with another user, remove) runs under the stripe locks of the users
// involved, so the main map and the index change together for every user-aware observer. Plain touches and
// updates that keep the user never take a lock.
public sealed partial class InMemorySessionStore
{
    private bool TryInsert(Entry entry)
    {
        var userLock = LockFor(entry.Session.UserId);
        if (userLock is null)
        {
            return _sessions.TryAdd(entry.Session.Id, entry);
        }

        lock (userLock)
        {
            if (!_sessions.TryAdd(entry.Session.Id, entry))
            {
                return false;
            }

            IndexAdd(entry.Session.UserId!, entry.Session.Id);
            return true;
        }
    }

    private bool TryReplace(Entry current, Entry replacement)
    {
        var first = LockFor(current.Session.UserId);
        var second = LockFor(replacement.Session.UserId);
        if (first is not null && second is not null && first != second && Array.IndexOf(_userLocks, first) > Array.IndexOf(_userLocks, second))
        {
            (first, second) = (second, first);
        }

        if (second == first)
        {
            second = null;
        }

        var firstTaken = false;
        var secondTaken = false;
        try
        {
            if (first is not null)
            {
                Monitor.Enter(first, ref firstTaken);
            }

            if (second is not null)
            {
                Monitor.Enter(second, ref secondTaken);
            }

            if (!_sessions.TryUpdate(current.Session.Id, replacement, current))
            {
                return false;
            }

            var oldUser = current.Session.UserId;
            var newUser = replacement.Session.UserId;
            if (!string.Equals(oldUser, newUser, StringComparison.Ordinal))
            {
                if (newUser is not null)
                {
                    IndexAdd(newUser, replacement.Session.Id);
                }

                if (oldUser is not null)
                {
                    IndexRemove(oldUser, current.Session.Id);
                }
            }

            return true;
        }
        finally
        {
            if (secondTaken)
            {
                Monitor.Exit(second!);
            }

            if (firstTaken)
            {
                Monitor.Exit(first!);
            }
        }
    }

    private bool TryRemove(Entry current)
    {
        var userLock = LockFor(current.Session.UserId);
        if (userLock is null)
        {
            return _sessions.TryRemove(new KeyValuePair<string, Entry>(current.Session.Id, current));
        }

        lock (userLock)
        {
            if (!_sessions.TryRemove(new KeyValuePair<string, Entry>(current.Session.Id, current)))
            {
                return false;
            }

            IndexRemove(current.Session.UserId!, current.Session.Id);
            return true;
        }
    }

    private object? LockFor(string? userId) =>
        userId is null ? null : _userLocks[(StringComparer.Ordinal.GetHashCode(userId) & int.MaxValue) % LockStripes];

    // Callers hold the user's stripe lock, so adds and removes of one user never interleave.
    private void IndexAdd(string userId, string id) =>
        _byUser.GetOrAdd(userId, static _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal))[id] = 0;

    private void IndexRemove(string userId, string id)
    {
        if (_byUser.TryGetValue(userId, out var ids) && ids.TryRemove(id, out _) && ids.IsEmpty)
        {
            _byUser.TryRemove(new KeyValuePair<string, ConcurrentDictionary<string, byte>>(userId, ids));
        }
    }
}
