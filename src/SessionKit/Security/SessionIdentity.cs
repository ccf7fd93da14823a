namespace SessionKit.Security;

/// <summary>
/// A stable identity: who the caller is, independent of which token proved it. Binding to it (rather than to token
/// bytes) lets an OAuth access-token refresh keep the session.
/// </summary>
public sealed record SessionIdentity
{
    /// <summary>Initializes a new instance of the <see cref="SessionIdentity"/> class.</summary>
    /// <param name="issuer">The token issuer (the <c>iss</c> claim).</param>
    /// <param name="subject">The subject (the <c>sub</c> claim).</param>
    /// <exception cref="ArgumentException">Either part is null, empty or white space.</exception>
    public SessionIdentity(string issuer, string subject)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(issuer);
        ArgumentException.ThrowIfNullOrWhiteSpace(subject);
        Issuer = issuer;
        Subject = subject;
    }

    /// <summary>Gets the issuer.</summary>
    public string Issuer { get; }

    /// <summary>Gets the subject.</summary>
    public string Subject { get; }
}
