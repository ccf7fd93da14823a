namespace SessionKit.Security;

/// <summary>
/// A hijack-prevention guard: binds a session to what its creator presented and checks every later access
/// (get, update, rotate) against that binding. Guards compose; the manager runs every registered guard.
/// </summary>
/// <remarks>Guards run on the hot path of every access: keep them synchronous, allocation-light and constant-time where secrets are compared.</remarks>
public interface ISessionGuard
{
    /// <summary>Gets a short, stable, low-cardinality name (used in logs, metrics and events), for example <c>credential</c>.</summary>
    string Name { get; }

    /// <summary>Writes this guard's binding data for a new session (or a rotated one that is re-bound).</summary>
    /// <param name="access">What the creating caller presented.</param>
    /// <param name="binding">The change set to add binding entries to (<see cref="SessionChanges.SetBinding"/>).</param>
    void Bind(SessionAccessContext access, SessionChanges binding);

    /// <summary>Checks one access against the session's binding data.</summary>
    /// <param name="session">The stored session, with its <see cref="Session.Binding"/>.</param>
    /// <param name="access">What the caller presented.</param>
    /// <returns>Allow, reject, or flag (log only).</returns>
    SessionGuardResult Check(Session session, SessionAccessContext access);
}
