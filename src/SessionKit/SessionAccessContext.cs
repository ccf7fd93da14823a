using System.Net;
using SessionKit.Security;

namespace SessionKit;

/// <summary>
/// Describes one access to a session: whether it should keep the session alive, and what the caller presented
/// (checked by hijack-prevention guards on every access, and bound at creation).
/// </summary>
/// <remarks>The credential is held only for the duration of the call; it is never stored, logged or returned.</remarks>
public sealed class SessionAccessContext
{
    /// <summary>Gets a shared context for an ordinary access that slides the session and presents nothing.</summary>
    public static SessionAccessContext Default { get; } = new();

    /// <summary>Gets a shared context for an access that must not keep the session alive (background polls, health pings).</summary>
    public static SessionAccessContext NoSlide { get; } = new() { Slide = false };

    /// <summary>Gets a value indicating whether the access slides the session's idle expiry.</summary>
    /// <value>Default <see langword="true"/>.</value>
    public bool Slide { get; init; } = true;

    /// <summary>Gets the credential the caller presented (an API key or a static bearer token), for credential binding.</summary>
    public string? Credential { get; init; }

    /// <summary>Gets the stable identity the caller authenticated as (issuer and subject), for identity binding.</summary>
    public SessionIdentity? Identity { get; init; }

    /// <summary>Gets the caller's network address, for client binding.</summary>
    public IPAddress? ClientAddress { get; init; }

    /// <summary>Gets the caller's User-Agent, for client binding.</summary>
    public string? UserAgent { get; init; }

    /// <summary>Returns a description that says which fields are present, never their values.</summary>
    /// <returns>A log-safe description.</returns>
    public override string ToString() =>
        $"SessionAccessContext {{ Slide = {Slide}, Credential = {(Credential is null ? "none" : "present")}, Identity = {(Identity is null ? "none" : "present")}, ClientAddress = {(ClientAddress is null ? "none" : "present")}, UserAgent = {(UserAgent is null ? "none" : "present")} }}";
}
