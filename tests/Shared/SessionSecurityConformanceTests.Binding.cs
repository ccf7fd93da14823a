using System.Net;
using Microsoft.Extensions.Logging;
using SessionKit.Security;

namespace SessionKit.Tests;

public abstract partial class SessionSecurityConformanceTests
{
    // ---- credential binding -------------------------------------------------------------------------------------

    [Fact]
    public async Task Credential_Right_Found()
    {
        var manager = Manager(guards: Credential());
        var session = await manager.CreateAsync(new SessionCreateOptions { Access = Alice });

        (await manager.GetAsync(session.Id, new SessionAccessContext { Credential = "api-key-alice" })).Status.Should().Be(SessionLookupStatus.Found);
    }

    [Fact]
    public async Task Credential_Wrong_Rejected()
    {
        var manager = Manager(guards: Credential());
        var session = await manager.CreateAsync(new SessionCreateOptions { Access = Alice });

        (await manager.GetAsync(session.Id, Mallory)).Status.Should().Be(SessionLookupStatus.Rejected);
    }

    [Fact]
    public async Task Credential_None_Rejected()
    {
        var manager = Manager(guards: Credential());
        var session = await manager.CreateAsync(new SessionCreateOptions { Access = Alice });

        (await manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.Rejected);
    }

    [Fact]
    public async Task Credential_NeverStoredRaw()
    {
        var manager = Manager(guards: Credential());
        var session = await manager.CreateAsync(new SessionCreateOptions { Access = Alice });

        var stored = await Store.GetAsync(session.Id, Time.GetUtcNow());

        stored!.Binding.Values.Should().NotContain(v => v.Contains("api-key-alice", StringComparison.Ordinal));
        stored.Binding.Should().ContainKeys("cred.salt", "cred.mac", "cred.kid");
        Convert.FromBase64String(stored.Binding["cred.salt"]).Should().HaveCount(16);
    }

    [Fact]
    public async Task Anonymous_PresentedCredential_Rejected()
    {
        var manager = Manager(guards: Credential());
        var session = await manager.CreateAsync();

        (await manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.Found);
        (await manager.GetAsync(session.Id, Alice)).Status.Should().Be(SessionLookupStatus.Rejected);
    }

    [Theory]
    [InlineData("cred.mac", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("cred.salt", "AAAAAAAAAAAAAAAAAAAAAA==")]
    [InlineData("cred.mac", null)]
    [InlineData("cred.salt", null)]
    [InlineData("cred.kid", null)]
    [InlineData("cred.mode", null)]
    [InlineData("cred.mode", "anonymous-ish")]
    [InlineData("cred.salt", "not base64!")]
    public async Task Credential_TamperedOrPartialBinding_FailsClosed(string key, string? value)
    {
        var manager = Manager(guards: Credential());
        var session = await manager.CreateAsync(new SessionCreateOptions { Access = Alice });
        var tamper = new SessionChanges();
        _ = value is null ? tamper.RemoveBinding(key) : tamper.SetBinding(key, value);
        (await Store.UpdateAsync(session.Id, tamper, Time.GetUtcNow(), long.MaxValue)).IsUpdated.Should().BeTrue();

        (await manager.GetAsync(session.Id, Alice)).Status.Should().Be(SessionLookupStatus.Rejected);
    }

    [Fact]
    public async Task Credential_RotatedServerKey_AcceptedAndReboundUnderTheNewKey()
    {
        var old = Manager(guards: Credential(KeyA));
        var session = await old.CreateAsync(new SessionCreateOptions { Access = Alice });
        var kidA = (await Store.GetAsync(session.Id, Time.GetUtcNow()))!.Binding["cred.kid"];
        var rotated = Manager(guards: Credential(KeyB, KeyA));

        var first = await rotated.GetAsync(session.Id, Alice);
        var kidAfter = (await Store.GetAsync(session.Id, Time.GetUtcNow()))!.Binding["cred.kid"];
        var onlyNewKey = Manager(guards: Credential(KeyB));

        first.Status.Should().Be(SessionLookupStatus.Found);
        kidAfter.Should().NotBe(kidA, "the session was re-bound under the current key");
        (await onlyNewKey.GetAsync(session.Id, Alice)).Status.Should().Be(SessionLookupStatus.Found);
        (await onlyNewKey.GetAsync(session.Id, Mallory)).Status.Should().Be(SessionLookupStatus.Rejected);
    }

    [Fact]
    public async Task Credential_KeyRemovedWithoutRotation_Rejected()
    {
        var session = await Manager(guards: Credential(KeyA)).CreateAsync(new SessionCreateOptions { Access = Alice });

        (await Manager(guards: Credential(KeyB)).GetAsync(session.Id, Alice)).Status.Should().Be(SessionLookupStatus.Rejected);
    }

    [Fact]
    public async Task Credential_WrongCaller_CannotUpdateOrRotate()
    {
        var manager = Manager(guards: Credential());
        var session = await manager.CreateAsync(new SessionCreateOptions { Access = Alice });

        var update = await manager.UpdateAsync(session.Id, new SessionChanges().SetMetadata("owned", "yes"), Mallory);
        var rotate = await manager.RotateAsync(session.Id, context: Mallory);

        update.Status.Should().Be(SessionUpdateStatus.Rejected);
        rotate.Status.Should().Be(SessionRotateStatus.Rejected);
        var stored = await Store.GetAsync(session.Id, Time.GetUtcNow());
        stored!.Metadata.Should().NotContainKey("owned");
        stored.Version.Should().Be(1);
    }

    [Fact]
    public async Task Credential_WrongCallerRightAfterTheOwnersGet_CannotUpdate()
    {
        // The owner's get leaves a fresh snapshot on this node; an update must still run the guards for its own caller.
        var manager = Manager(guards: Credential());
        var session = await manager.CreateAsync(new SessionCreateOptions { Access = Alice });
        (await manager.GetAsync(session.Id, Alice)).Status.Should().Be(SessionLookupStatus.Found);

        var update = await manager.UpdateAsync(session.Id, new SessionChanges().SetMetadata("owned", "yes"), Mallory);
        var owners = await manager.UpdateAsync(session.Id, new SessionChanges().SetMetadata("mine", "yes"), Alice);

        update.Status.Should().Be(SessionUpdateStatus.Rejected);
        owners.Status.Should().Be(SessionUpdateStatus.Updated);
        var stored = await Store.GetAsync(session.Id, Time.GetUtcNow());
        stored!.Metadata.Should().NotContainKey("owned").And.ContainKey("mine");
        stored.Version.Should().Be(2);
    }

    // ---- identity binding ---------------------------------------------------------------------------------------

    [Fact]
    public async Task Identity_TokenRefreshSameIdentity_KeepsTheSession()
    {
        var manager = Manager(guards: new IdentityBindingGuard());
        var identity = new SessionIdentity("https://issuer.example", "user-42");
        var session = await manager.CreateAsync(new SessionCreateOptions { Access = new() { Identity = identity, Credential = "access-token-1" } });

        var refreshed = await manager.GetAsync(session.Id, new SessionAccessContext { Identity = new SessionIdentity("https://issuer.example", "user-42"), Credential = "access-token-2" });

        refreshed.Status.Should().Be(SessionLookupStatus.Found);
    }

    [Theory]
    [InlineData("https://issuer.example", "user-43")]
    [InlineData("https://evil.example", "user-42")]
    public async Task Identity_OtherIdentity_Rejected(string issuer, string subject)
    {
        var manager = Manager(guards: new IdentityBindingGuard());
        var session = await manager.CreateAsync(new SessionCreateOptions { Access = new() { Identity = new SessionIdentity("https://issuer.example", "user-42") } });

        (await manager.GetAsync(session.Id, new SessionAccessContext { Identity = new SessionIdentity(issuer, subject) })).Status.Should().Be(SessionLookupStatus.Rejected);
        (await manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.Rejected);
    }

    [Fact]
    public async Task Identity_AnonymousSessionPresentedIdentity_Rejected()
    {
        var manager = Manager(guards: new IdentityBindingGuard());
        var session = await manager.CreateAsync();

        (await manager.GetAsync(session.Id, new SessionAccessContext { Identity = new SessionIdentity("i", "s") })).Status.Should().Be(SessionLookupStatus.Rejected);
    }

    // ---- client binding -----------------------------------------------------------------------------------------

    [Fact]
    public async Task Client_Reject_SameNetworkAllowedOtherNetworkRejected()
    {
        var manager = Manager(guards: Client(ClientBindingMode.Reject));
        var session = await manager.CreateAsync(new SessionCreateOptions { Access = new() { ClientAddress = IPAddress.Parse("203.0.113.10"), UserAgent = "curl/8" } });

        (await manager.GetAsync(session.Id, new() { ClientAddress = IPAddress.Parse("203.0.113.200"), UserAgent = "curl/8" })).Status.Should().Be(SessionLookupStatus.Found);
        (await manager.GetAsync(session.Id, new() { ClientAddress = IPAddress.Parse("::ffff:203.0.113.7"), UserAgent = "curl/8" })).Status.Should().Be(SessionLookupStatus.Found);
        (await manager.GetAsync(session.Id, new() { ClientAddress = IPAddress.Parse("198.51.100.10"), UserAgent = "curl/8" })).Status.Should().Be(SessionLookupStatus.Rejected);
        (await manager.GetAsync(session.Id, new() { ClientAddress = IPAddress.Parse("203.0.113.10"), UserAgent = "Mozilla/5.0" })).Status.Should().Be(SessionLookupStatus.Rejected);
    }

    [Fact]
    public async Task Client_IPv6_BindsTheSlash64()
    {
        var manager = Manager(guards: Client(ClientBindingMode.Reject));
        var session = await manager.CreateAsync(new SessionCreateOptions { Access = new() { ClientAddress = IPAddress.Parse("2001:db8:1:2::10") } });

        (await manager.GetAsync(session.Id, new() { ClientAddress = IPAddress.Parse("2001:db8:1:2:ffff::1") })).Status.Should().Be(SessionLookupStatus.Found);
        (await manager.GetAsync(session.Id, new() { ClientAddress = IPAddress.Parse("2001:db8:1:3::10") })).Status.Should().Be(SessionLookupStatus.Rejected);
    }

    [Fact]
    public async Task Client_LogOnly_AllowsButLogsAndCounts()
    {
        var manager = Manager(guards: Client(ClientBindingMode.LogOnly));
        var session = await manager.CreateAsync(new SessionCreateOptions { Access = new() { ClientAddress = IPAddress.Parse("203.0.113.10") } });

        var result = await manager.GetAsync(session.Id, new() { ClientAddress = IPAddress.Parse("198.51.100.10") });

        result.Status.Should().Be(SessionLookupStatus.Found);
        Meters.Total("sessionkit.sessions.flagged").Should().Be(1);
        Logs.Entries.Should().Contain(e => e.EventId.Id == 11 && e.Level == LogLevel.Warning);
    }

    // ---- what a rejection does ----------------------------------------------------------------------------------

    [Fact]
    public async Task Rejection_LogsSaltedTagCountsAndRaisesEvent_ButKeepsTheSession()
    {
        var manager = Manager(guards: Credential());
        var session = await manager.CreateAsync(new SessionCreateOptions { Access = Alice, UserId = "alice" });

        await manager.GetAsync(session.Id, Mallory);

        var rejected = Logs.Entries.Should().ContainSingle(e => e.EventId.Id == 10).Which;
        rejected.Level.Should().Be(LogLevel.Warning);
        rejected.AllText.Should().NotContain(session.Id).And.NotContain("api-key");
        Meters.Total("sessionkit.sessions.rejected").Should().Be(1);
        Events.Of(SessionEventKind.Rejected).Should().ContainSingle().Which.Guard.Should().Be("credential");
        (await manager.GetAsync(session.Id, Alice)).IsFound.Should().BeTrue();
    }

    [Fact]
    public async Task Rejection_TerminateOnRejection_DeletesTheSession()
    {
        var manager = Manager(o => o.TerminateOnRejection = true, Credential());
        var session = await manager.CreateAsync(new SessionCreateOptions { Access = Alice });

        (await manager.GetAsync(session.Id, Mallory)).Status.Should().Be(SessionLookupStatus.Rejected);

        (await manager.GetAsync(session.Id, Alice)).Status.Should().Be(SessionLookupStatus.NotFound);
        Events.Of(SessionEventKind.Deleted).Should().ContainSingle();
    }
}
