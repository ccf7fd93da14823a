using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using SessionKit.Internal;

namespace SessionKit.Security;

/// <summary>
/// Binds a session to its creator's network prefix and/or User-Agent (stored as SHA-256 hashes) and, on a
/// mismatch, rejects or only logs depending on <see cref="ClientBindingOptions.Mode"/>.
/// </summary>
public sealed class ClientBindingGuard : ISessionGuard
{
    internal const string NetworkKey = "client.net";
    internal const string UserAgentKey = "client.ua";

    private readonly ClientBindingOptions _options;

    /// <summary>Initializes a new instance of the <see cref="ClientBindingGuard"/> class.</summary>
    /// <param name="options">The options.</param>
    /// <exception cref="OptionsValidationException">A prefix length is out of range.</exception>
    public ClientBindingGuard(IOptions<ClientBindingOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        var failures = Validate(_options);
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(ClientBindingOptions), failures);
        }
    }

    /// <inheritdoc />
    public string Name => "client";

    /// <inheritdoc />
    public void Bind(SessionAccessContext access, SessionChanges binding)
    {
        ArgumentNullException.ThrowIfNull(access);
        ArgumentNullException.ThrowIfNull(binding);
        if (_options.BindAddress && access.ClientAddress is { } address)
        {
            binding.SetBinding(NetworkKey, BindingHash.Sha256("sessionkit.client.net.v1", Network(address)));
        }

        if (_options.BindUserAgent && access.UserAgent is { } userAgent)
        {
            binding.SetBinding(UserAgentKey, BindingHash.Sha256("sessionkit.client.ua.v1", userAgent));
        }
    }

    /// <inheritdoc />
    public SessionGuardResult Check(Session session, SessionAccessContext access)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(access);
        string? reason = null;
        if (_options.BindAddress && session.Binding.TryGetValue(NetworkKey, out var network)
            && (access.ClientAddress is not { } address || !BindingHash.FixedTimeEqualsBase64(network, BindingHash.Sha256("sessionkit.client.net.v1", Network(address)))))
        {
            reason = "the client's network prefix differs from the session creator's";
        }
        else if (_options.BindUserAgent && session.Binding.TryGetValue(UserAgentKey, out var userAgent)
            && (access.UserAgent is not { } presented || !BindingHash.FixedTimeEqualsBase64(userAgent, BindingHash.Sha256("sessionkit.client.ua.v1", presented))))
        {
            reason = "the client's User-Agent differs from the session creator's";
        }

        if (reason is null)
        {
            return SessionGuardResult.Allow;
        }

        return _options.Mode == ClientBindingMode.Reject ? SessionGuardResult.Reject(reason) : SessionGuardResult.Flag(reason);
    }

    internal static List<string> Validate(ClientBindingOptions options)
    {
        var failures = new List<string>();
        if (options.IPv4PrefixLength is < 0 or > 32)
        {
            failures.Add($"ClientBindingOptions.IPv4PrefixLength must be between 0 and 32 (was {options.IPv4PrefixLength}).");
        }

        if (options.IPv6PrefixLength is < 0 or > 128)
        {
            failures.Add($"ClientBindingOptions.IPv6PrefixLength must be between 0 and 128 (was {options.IPv6PrefixLength}).");
        }

        if (!Enum.IsDefined(options.Mode))
        {
            failures.Add($"ClientBindingOptions.Mode has an undefined value ({(int)options.Mode}).");
        }

        return failures;
    }

    private string Network(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var prefix = address.AddressFamily == AddressFamily.InterNetwork ? _options.IPv4PrefixLength : _options.IPv6PrefixLength;
        var bytes = address.GetAddressBytes();
        for (var bit = prefix; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return $"{new IPAddress(bytes)}/{prefix}";
    }
}
