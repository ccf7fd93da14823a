namespace SessionKit.Security;

/// <summary>What <see cref="ClientBindingGuard"/> does on a mismatch.</summary>
public enum ClientBindingMode
{
    /// <summary>Reject the access.</summary>
    Reject,

    /// <summary>Log and count the mismatch, then allow it (NAT and mobile networks make client binding a detector, not a lock).</summary>
    LogOnly,
}
