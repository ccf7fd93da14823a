namespace SessionKit.Security;

/// <summary>The outcome of <see cref="ISessionGuard.Check"/>.</summary>
public readonly record struct SessionGuardResult
{
    private SessionGuardResult(SessionGuardDecision decision, string? reason, SessionChanges? rebind)
    {
        Decision = decision;
        Reason = reason;
        Rebind = rebind;
    }

    /// <summary>Gets the allow result.</summary>
    public static SessionGuardResult Allow { get; } = new(SessionGuardDecision.Allow, null, null);

    /// <summary>Gets what the guard decided.</summary>
    public SessionGuardDecision Decision { get; }

    /// <summary>Gets why the access was rejected or flagged: for the host and logs, never for the client. Never contains secrets or ids.</summary>
    public string? Reason { get; }

    /// <summary>Gets binding changes to persist after an allowed access (for example a re-bind under a rotated server key).</summary>
    public SessionChanges? Rebind { get; }

    /// <summary>Creates a reject result.</summary>
    /// <param name="reason">Why (for logs; no secrets, no ids).</param>
    /// <returns>The result.</returns>
    public static SessionGuardResult Reject(string reason) => new(SessionGuardDecision.Reject, reason, null);

    /// <summary>Creates a flag (log-only) result.</summary>
    /// <param name="reason">Why (for logs; no secrets, no ids).</param>
    /// <returns>The result.</returns>
    public static SessionGuardResult Flag(string reason) => new(SessionGuardDecision.Flag, reason, null);

    /// <summary>Creates an allow result that asks the manager to persist new binding data.</summary>
    /// <param name="rebind">The binding changes.</param>
    /// <returns>The result.</returns>
    public static SessionGuardResult AllowAndRebind(SessionChanges rebind)
    {
        ArgumentNullException.ThrowIfNull(rebind);
        return new(SessionGuardDecision.Allow, null, rebind);
    }
}
