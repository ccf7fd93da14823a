namespace SessionKit.Security;

/// <summary>What a guard decided about one access.</summary>
public enum SessionGuardDecision
{
    /// <summary>The access matches the binding.</summary>
    Allow,

    /// <summary>The access does not match; the caller gets "rejected" (an HTTP host answers 403).</summary>
    Reject,

    /// <summary>The access does not match, but the guard only detects (log-only mode): it is logged and counted, then allowed.</summary>
    Flag,
}
