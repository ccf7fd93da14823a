using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionKit.Security;

namespace SessionKit.Tests;

/// <summary>
/// The hijack matrix, rotation with grace, anti-resurrection races and lifecycle events, run through
/// <see cref="SessionManager"/> against every store.
/// </summary>
public abstract class SessionSecurityConformanceTests : IAsyncLifetime
{
    private static readonly byte[] KeyA = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] KeyB = RandomNumberGenerator.GetBytes(32);
    private static readonly SessionAccessContext Alice = new() { Credential = "api-key-alice" };
    private static readonly SessionAccessContext Mallory = new() { Credential = "api-key-mallory" };

    private readonly List<SessionManager> _managers = [];

    protected ManualTimeProvider Time { get; } = new(DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));

    protected ISessionStore Store { get; private set; } = null!;

    protected CapturingLoggerProvider Logs { get; } = new();

    protected TestMeterFactory Meters { get; } = new();

    protected RecordingHandler Events { get; } = new();

    /// <summary>Returns a fresh, empty, isolated store.</summary>
    protected abstract ISessionStore CreateStore();

    public virtual Task InitializeAsync()
    {
        Store = CreateStore();
        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync()
    {
        foreach (var manager in _managers)
        {
            await manager.DisposeAsync();
        }

        switch (Store)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }

        Meters.Dispose();
    }

    protected SessionManager Manager(Action<SessionKitOptions>? configure = null, params ISessionGuard[] guards)
    {
        var options = new SessionKitOptions { EnableBackgroundCleanup = false };
        configure?.Invoke(options);
        var manager = new SessionManager(Store, Options.Create(options), Time, Logs, Meters, guards, [Events, new ThrowingHandler()]);
        _managers.Add(manager);
        return manager;
    }

    protected static CredentialBindingGuard Credential(byte[]? key = null, params byte[][] previous)
    {
        var options = new CredentialBindingOptions { Key = key ?? KeyA };
        foreach (var p in previous)
        {
            options.PreviousKeys.Add(p);
        }

        return new CredentialBindingGuard(Options.Create(options));
    }

    protected static ClientBindingGuard Client(ClientBindingMode mode) =>
        new(Options.Create(new ClientBindingOptions { Mode = mode }));

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

    // ---- rotation -----------------------------------------------------------------------------------------------

    [Fact]
    public async Task Rotate_NewIdSameData_OldIdForwardsDuringGraceThenIsGone()
    {
        var manager = Manager();
        var session = await manager.CreateAsync(new SessionCreateOptions { UserId = "alice" }.WithState("cart", 3));

        var rotated = await manager.RotateAsync(session.Id);

        rotated.IsRotated.Should().BeTrue();
        rotated.Session!.Id.Should().NotBe(session.Id);
        rotated.Session.GetState<int>("cart").Should().Be(3);
        rotated.Session.UserId.Should().Be("alice");
        (await manager.GetAsync(session.Id)).Session!.Id.Should().Be(rotated.Session.Id);
        (await manager.QueryAsync(new SessionQuery { UserId = "alice" })).Sessions.Should().ContainSingle().Which.Id.Should().Be(rotated.Session.Id);

        Time.Advance(TimeSpan.FromSeconds(30));

        (await manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
        (await manager.GetAsync(rotated.Session.Id)).IsFound.Should().BeTrue();
        Events.Of(SessionEventKind.Rotated).Should().ContainSingle().Which.PreviousSessionId.Should().Be(session.Id);
    }

    [Fact]
    public async Task Rotate_ParallelInFlightRequestsOnTheOldId_AllLandOnTheNewSession()
    {
        var manager = Manager();
        var session = await manager.CreateAsync();
        var rotated = (await manager.RotateAsync(session.Id)).Session!;

        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(async () =>
        {
            var get = await manager.GetAsync(session.Id);
            var update = await manager.UpdateAsync(session.Id, new SessionChanges().SetState($"k{i}", i));
            return (get.IsFound, update.IsUpdated);
        })));

        results.Should().OnlyContain(r => r.IsFound && r.IsUpdated);
        var current = (await manager.GetAsync(rotated.Id)).Session!;
        current.State.Keys.Should().HaveCount(32);
    }

    [Fact]
    public async Task Rotate_GraceZero_OldIdGoneAtOnce()
    {
        var manager = Manager(o => o.RotationGracePeriod = TimeSpan.Zero);
        var session = await manager.CreateAsync();

        var rotated = await manager.RotateAsync(session.Id);

        (await manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
        (await manager.GetAsync(rotated.Session!.Id)).IsFound.Should().BeTrue();
    }

    [Fact]
    public async Task Rotate_AfterGrace_LateUpdateOnOldIdIsNotFoundAndNotLost()
    {
        var manager = Manager();
        var session = await manager.CreateAsync();
        var rotated = (await manager.RotateAsync(session.Id)).Session!;
        Time.Advance(TimeSpan.FromSeconds(31));

        var late = await manager.UpdateAsync(session.Id, new SessionChanges().SetMetadata("late", "1"));

        late.Status.Should().Be(SessionUpdateStatus.NotFound);
        (await manager.GetAsync(rotated.Id)).Session!.Metadata.Should().NotContainKey("late");
    }

    [Fact]
    public async Task Rotate_AnonymousUpgradedByRebind_NewSessionRequiresTheCredential()
    {
        var manager = Manager(guards: Credential());
        var anonymous = await manager.CreateAsync();

        var upgraded = await manager.RotateAsync(anonymous.Id, new SessionRotateOptions { Rebind = Alice, ChangeUserId = true, UserId = "alice" });

        upgraded.IsRotated.Should().BeTrue();
        upgraded.Session!.UserId.Should().Be("alice");
        (await manager.GetAsync(upgraded.Session.Id, Alice)).IsFound.Should().BeTrue();
        (await manager.GetAsync(upgraded.Session.Id)).Status.Should().Be(SessionLookupStatus.Rejected);
        (await manager.GetAsync(upgraded.Session.Id, Mallory)).Status.Should().Be(SessionLookupStatus.Rejected);
    }

    [Fact]
    public async Task Rotate_KeepsBindingWithoutRebind()
    {
        var manager = Manager(guards: Credential());
        var session = await manager.CreateAsync(new SessionCreateOptions { Access = Alice });

        var rotated = await manager.RotateAsync(session.Id, context: Alice);

        (await manager.GetAsync(rotated.Session!.Id, Alice)).IsFound.Should().BeTrue();
        (await manager.GetAsync(rotated.Session.Id, Mallory)).Status.Should().Be(SessionLookupStatus.Rejected);
    }

    [Fact]
    public async Task Rotate_DeleteThroughOldIdDuringGrace_LogsOutTheNewSession()
    {
        var manager = Manager();
        var session = await manager.CreateAsync();
        var rotated = (await manager.RotateAsync(session.Id)).Session!;

        (await manager.DeleteAsync(session.Id)).Should().BeTrue();

        (await manager.GetAsync(rotated.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
        (await manager.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
    }

    [Fact]
    public async Task Rotate_UnknownOrAlreadyRotatedId_NotFound()
    {
        var manager = Manager();
        var session = await manager.CreateAsync();
        await manager.RotateAsync(session.Id);

        (await manager.RotateAsync(session.Id)).Status.Should().Be(SessionRotateStatus.NotFound);
        (await manager.RotateAsync(SessionIds.Generate())).Status.Should().Be(SessionRotateStatus.NotFound);
    }

    // ---- anti-resurrection --------------------------------------------------------------------------------------

    [Fact]
    public async Task Resurrection_DeleteRacingUpdateAndTouch_NeverLeavesALiveSession()
    {
        var manager = Manager(o => o.TouchThreshold = TimeSpan.FromMilliseconds(1));
        var resurrected = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var session = await manager.CreateAsync();
            Time.Advance(TimeSpan.FromMilliseconds(5));
            var delete = Task.Run(async () => await manager.DeleteAsync(session.Id));
            var update = Task.Run(async () => await manager.UpdateAsync(session.Id, new SessionChanges().SetState("late", i)));
            var touch = Task.Run(async () => await manager.GetAsync(session.Id));
            var rawTouch = Task.Run(async () => await Store.TouchAsync(session.Id, Time.GetUtcNow()));
            await Task.WhenAll(delete, update, touch, rawTouch);

            if (await Store.ExistsAsync(session.Id, Time.GetUtcNow()) || (await manager.GetAsync(session.Id)).IsFound)
            {
                resurrected++;
            }
        }

        resurrected.Should().Be(0);
    }

    [Fact]
    public async Task Resurrection_RotationRacingUpdates_NoUpdateIsLostOrResurrectsTheOldSession()
    {
        var manager = Manager(o => o.RotationGracePeriod = TimeSpan.Zero);
        for (var i = 0; i < Iterations / 10; i++)
        {
            var session = await manager.CreateAsync();
            var rotate = Task.Run(async () => await manager.RotateAsync(session.Id));
            var update = Task.Run(async () => await manager.UpdateAsync(session.Id, new SessionChanges().SetState("k", i)));
            await Task.WhenAll(rotate, update);

            var rotated = await rotate;
            if (rotated.IsRotated)
            {
                (await Store.ExistsAsync(session.Id, Time.GetUtcNow())).Should().BeFalse("a rotation with no grace removes the old id");
                if ((await update).IsUpdated)
                {
                    var current = await Store.GetAsync(rotated.Session!.Id, Time.GetUtcNow());
                    current!.State.Should().ContainKey("k", "an update acknowledged before the rotation retired the old id is carried over");
                }
            }
        }
    }

    /// <summary>Gets how many delete-vs-write races run (1,000 by default; slower stores may lower it only with a reason).</summary>
    protected virtual int Iterations => 1000;

    // ---- lifecycle events ---------------------------------------------------------------------------------------

    [Fact]
    public async Task Events_CreatedDeletedExpiredRotated_AreDelivered_AndAThrowingHandlerIsLogged()
    {
        var manager = Manager();
        var deleted = await manager.CreateAsync(new SessionCreateOptions { UserId = "u" });
        var expiring = await manager.CreateAsync(new SessionCreateOptions { IdleTimeout = TimeSpan.FromMinutes(1) });
        var rotating = await manager.CreateAsync();
        await manager.DeleteAsync(deleted.Id);
        await manager.RotateAsync(rotating.Id);
        Time.Advance(TimeSpan.FromMinutes(2));

        await manager.CleanupExpiredAsync();

        Events.Of(SessionEventKind.Created).Select(e => e.SessionId).Should().BeEquivalentTo(deleted.Id, expiring.Id, rotating.Id);
        Events.Of(SessionEventKind.Deleted).Should().ContainSingle().Which.UserId.Should().Be("u");
        Events.Of(SessionEventKind.Expired).Select(e => e.SessionId).Should().Contain(expiring.Id).And.NotContain(rotating.Id);
        Events.Of(SessionEventKind.Rotated).Should().ContainSingle();
        Logs.Entries.Where(e => e.EventId.Id == 13).Should().HaveCountGreaterThanOrEqualTo(4, "the throwing handler fails on every event and is only logged");
    }

    /// <summary>Records every event.</summary>
    protected sealed class RecordingHandler : ISessionLifecycleHandler
    {
        private readonly List<SessionEvent> _events = [];

        public IReadOnlyList<SessionEvent> Of(SessionEventKind kind)
        {
            lock (_events)
            {
                return [.. _events.Where(e => e.Kind == kind)];
            }
        }

        public ValueTask HandleAsync(SessionEvent sessionEvent, CancellationToken cancellationToken)
        {
            lock (_events)
            {
                _events.Add(sessionEvent);
            }

            return ValueTask.CompletedTask;
        }
    }

    private sealed class ThrowingHandler : ISessionLifecycleHandler
    {
        public ValueTask HandleAsync(SessionEvent sessionEvent, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("handler bug");
    }
}
