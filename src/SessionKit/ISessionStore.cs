namespace SessionKit;

/// <summary>
/// The storage port: atomic, conditional primitives over session snapshots. A store never decides policy; every
/// time it needs comes from the caller's <c>now</c>, so logical expiry is decided by one clock on every backend.
/// </summary>
/// <remarks>
/// <para>"Absent" and "expired" look the same to callers: an expired session that has not been swept yet is
/// invisible to every operation, and <see cref="CreateAsync"/> treats it as absent.</para>
/// <para>Backend failures surface as <see cref="SessionStoreException"/>; expected outcomes are return values. A
/// failure caused by a timeout means the outcome is unknown (the command may still have been applied), not that
/// nothing was written: every operation is safe to retry.</para>
/// </remarks>
public interface ISessionStore
{
    /// <summary>Gets a short, stable name for the store, used in diagnostics (for example <c>memory</c>).</summary>
    string Name { get; }

    /// <summary>Creates a session if no live session has its id.</summary>
    /// <param name="session">The new session, with <see cref="Session.Version"/> 1.</param>
    /// <param name="now">The current time; an expired record with the same id counts as absent.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns><see langword="true"/> when created; <see langword="false"/> on an id collision.</returns>
    ValueTask<bool> CreateAsync(Session session, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Gets a live session without side effects (no slide).</summary>
    /// <param name="id">The session id.</param>
    /// <param name="now">The current time.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The snapshot, or <see langword="null"/> when absent or expired.</returns>
    ValueTask<Session?> GetAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Slides a live session in one atomic, conditional step: sets <see cref="Session.LastAccessedAt"/> to
    /// <paramref name="now"/> (never backwards), which moves the expiry by the stored idle timeout, capped by the
    /// absolute expiry. Never re-creates a missing session and does not change <see cref="Session.Version"/>.
    /// </summary>
    /// <param name="id">The session id.</param>
    /// <param name="now">The current time.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns><see langword="true"/> when a live session was slid; <see langword="false"/> when absent or expired.</returns>
    ValueTask<bool> TouchAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies a change set to a live session, atomically: update-if-exists (never re-creates), per-key merge,
    /// optional compare-and-set on <see cref="SessionChanges.ExpectedVersion"/>, a slide to <paramref name="now"/>
    /// and a version increment.
    /// </summary>
    /// <remarks>
    /// A record whose <see cref="Session.Binding"/> holds <see cref="Session.ForwarderBindingKey"/> is a rotation
    /// forwarder: it is never changed again. The store answers <see cref="SessionUpdateResult.Forwarded"/> with the
    /// forwarder's snapshot instead of writing (checked before the expected version), and the manager follows it.
    /// </remarks>
    /// <param name="id">The session id.</param>
    /// <param name="changes">The change set.</param>
    /// <param name="now">The current time.</param>
    /// <param name="maxStateBytes">The largest state (as measured by <see cref="Session.GetStateSize"/>) the result may have.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The outcome; <see cref="SessionUpdateResult.Session"/> is the new snapshot when updated.</returns>
    /// <exception cref="SessionStateTooLargeException">The merged state would exceed <paramref name="maxStateBytes"/>; nothing was written.</exception>
    ValueTask<SessionUpdateResult> UpdateAsync(string id, SessionChanges changes, DateTimeOffset now, long maxStateBytes, CancellationToken cancellationToken = default);

    /// <summary>Deletes a session, in one atomic step that also reports what it removed. Idempotent.</summary>
    /// <param name="id">The session id.</param>
    /// <param name="now">The current time.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>
    /// The live record as it was when removed (a rotation forwarder included, so the caller can end the chain it
    /// starts), or <see langword="null"/> when nothing live had the id.
    /// </returns>
    ValueTask<Session?> DeleteAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Determines whether a live session exists, with no side effects and no slide.</summary>
    /// <param name="id">The session id.</param>
    /// <param name="now">The current time.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns><see langword="true"/> when a live session has the id.</returns>
    ValueTask<bool> ExistsAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Lists live sessions by exact <see cref="Session.UserId"/> and/or <see cref="Session.Kind"/>, one page at a time.</summary>
    /// <param name="query">The filter, page size and cursor.</param>
    /// <param name="now">The current time.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>A page of sessions and the cursor of the next page (<see langword="null"/> on the last page).</returns>
    /// <exception cref="ArgumentException">The cursor was not produced by this store.</exception>
    ValueTask<SessionPage> QueryAsync(SessionQuery query, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes up to <paramref name="maxCount"/> expired sessions. Never removes a session that was touched or
    /// updated concurrently: each candidate is re-checked and removed only if it is still the same expired record.
    /// </summary>
    /// <param name="now">The current time.</param>
    /// <param name="maxCount">The most sessions to remove in this call.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The removed sessions, as they were when removed (for expiry events).</returns>
    ValueTask<IReadOnlyList<Session>> RemoveExpiredAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken = default);
}
