using SessionKit.Internal;

namespace SessionKit.Security;

/// <summary>
/// Binds a session to a stable identity (issuer + subject) instead of token bytes, so an OAuth access-token refresh
/// keeps the session while another user's token is rejected. Only a SHA-256 of the identity is stored.
/// </summary>
/// <remarks>
/// A session created without an identity is anonymous: a caller presenting an identity to it is rejected (upgrade
/// it through <see cref="ISessionManager.RotateAsync"/> with a re-bind). Missing binding data fails closed.
/// </remarks>
public sealed class IdentityBindingGuard : ISessionGuard
{
    internal const string HashKey = "identity.hash";
    private const string AnonymousValue = "anonymous";

    /// <inheritdoc />
    public string Name => "identity";

    /// <inheritdoc />
    public void Bind(SessionAccessContext access, SessionChanges binding)
    {
        ArgumentNullException.ThrowIfNull(access);
        ArgumentNullException.ThrowIfNull(binding);
        binding.SetBinding(HashKey, access.Identity is { } identity ? Hash(identity) : AnonymousValue);
    }

    /// <inheritdoc />
    public SessionGuardResult Check(Session session, SessionAccessContext access)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(access);
        if (!session.Binding.TryGetValue(HashKey, out var stored))
        {
            return SessionGuardResult.Reject("the session has no identity binding data");
        }

        if (string.Equals(stored, AnonymousValue, StringComparison.Ordinal))
        {
            return access.Identity is null
                ? SessionGuardResult.Allow
                : SessionGuardResult.Reject("an identity was presented to an anonymous session (upgrade through rotation)");
        }

        if (access.Identity is not { } presented)
        {
            return SessionGuardResult.Reject("no identity was presented to an identity-bound session");
        }

        return BindingHash.FixedTimeEqualsBase64(stored, Hash(presented))
            ? SessionGuardResult.Allow
            : SessionGuardResult.Reject("the presented identity does not match the session's binding");
    }

    private static string Hash(SessionIdentity identity) => BindingHash.Sha256("sessionkit.identity.v1", identity.Issuer, identity.Subject);
}
