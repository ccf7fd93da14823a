namespace SessionKit;

/// <summary>
/// The session lifecycle: ids, timeouts, limits, cleanup and (with guards) hijack prevention, over an
/// <see cref="ISessionStore"/>. Thread-safe; register it as a singleton.
/// </summary>
public interface ISessionManager
{
    /// <summary>Creates a session with a fresh id.</summary>
    /// <param name="options">Per-session settings and initial data; <see langword="null"/> for defaults.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The new session.</returns>
    /// <exception cref="SessionLimitExceededException">The user is at <see cref="SessionKitOptions.MaxSessionsPerUser"/> and the policy is <see cref="MaxSessionsPolicy.RejectNew"/>.</exception>
    /// <exception cref="SessionStateTooLargeException">The initial state exceeds <see cref="SessionKitOptions.MaxStateBytes"/>.</exception>
    /// <exception cref="SessionStoreException">The store failed.</exception>
    ValueTask<Session> CreateAsync(SessionCreateOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Creates a session with a fresh id, reporting a reached per-user limit as a result instead of an exception.</summary>
    /// <param name="options">Per-session settings and initial data; <see langword="null"/> for defaults.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The outcome and, when created, the session.</returns>
    /// <exception cref="SessionStateTooLargeException">The initial state exceeds <see cref="SessionKitOptions.MaxStateBytes"/>.</exception>
    /// <exception cref="SessionStoreException">The store failed.</exception>
    ValueTask<SessionCreateResult> TryCreateAsync(SessionCreateOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Looks a session up by the id a caller presented. A malformed id is "not found" without any store access.
    /// The access slides the session unless <paramref name="context"/> says not to; the store is written at most
    /// once per touch threshold.
    /// </summary>
    /// <param name="id">The presented id.</param>
    /// <param name="context">The access; <see langword="null"/> for <see cref="SessionAccessContext.Default"/>.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>Found with the snapshot, not found, or rejected.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="id"/> is null.</exception>
    /// <exception cref="SessionStoreException">The store failed.</exception>
    ValueTask<SessionLookupResult> GetAsync(string id, SessionAccessContext? context = null, CancellationToken cancellationToken = default);

    /// <summary>Applies a change set to a live session (per-key merge; compare-and-set when <see cref="SessionChanges.ExpectedVersion"/> is set).</summary>
    /// <param name="id">The presented id.</param>
    /// <param name="changes">The change set.</param>
    /// <param name="context">The access; <see langword="null"/> for <see cref="SessionAccessContext.Default"/>.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>Updated with the new snapshot, not found, conflict, or rejected.</returns>
    /// <exception cref="SessionStateTooLargeException">The merged state would exceed <see cref="SessionKitOptions.MaxStateBytes"/>; nothing was written.</exception>
    /// <exception cref="SessionStoreException">The store failed.</exception>
    ValueTask<SessionUpdateResult> UpdateAsync(string id, SessionChanges changes, SessionAccessContext? context = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gives a session a new id with the same data (fixation defence after login or a privilege change). The old id
    /// keeps resolving to the new session for <see cref="SessionKitOptions.RotationGracePeriod"/>, so parallel
    /// in-flight requests survive, then is gone. With <see cref="SessionRotateOptions.Rebind"/> the guards bind the
    /// new session to what the caller now presents (this is how an anonymous session is upgraded).
    /// </summary>
    /// <param name="id">The presented (current) id.</param>
    /// <param name="options">Re-bind and owner change; <see langword="null"/> to keep both.</param>
    /// <param name="context">What the caller presents now, checked against the current binding.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>Found with the session under its new id, not found, or rejected.</returns>
    /// <exception cref="SessionStoreException">The store failed.</exception>
    ValueTask<SessionRotateResult> RotateAsync(string id, SessionRotateOptions? options = null, SessionAccessContext? context = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes a session (log out). Idempotent.</summary>
    /// <param name="id">The id.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns><see langword="true"/> when a live session was deleted.</returns>
    /// <exception cref="SessionStoreException">The store failed.</exception>
    ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Deletes every live session of a user (log out everywhere), optionally keeping one.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="exceptSessionId">A session to keep (typically the caller's own), or <see langword="null"/>.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>How many sessions were deleted.</returns>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is null, empty or white space.</exception>
    /// <exception cref="SessionStoreException">The store failed.</exception>
    ValueTask<int> DeleteUserSessionsAsync(string userId, string? exceptSessionId = null, CancellationToken cancellationToken = default);

    /// <summary>Lists live sessions by user and/or kind, one page at a time. Binding data is not included.</summary>
    /// <param name="query">The filter and page.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The page.</returns>
    /// <exception cref="SessionStoreException">The store failed.</exception>
    ValueTask<SessionPage> QueryAsync(SessionQuery query, CancellationToken cancellationToken = default);

    /// <summary>Sweeps expired sessions now (the background cleanup calls this on its timer).</summary>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>How many expired sessions were removed.</returns>
    /// <exception cref="SessionStoreException">The store failed.</exception>
    ValueTask<int> CleanupExpiredAsync(CancellationToken cancellationToken = default);
}
