using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SessionKit.Security;

namespace SessionKit.Tests.DependencyInjection;

public sealed class SessionKitSecurityBuilderExtensionsTests
{
    [Fact]
    public async Task AddGuards_AreRunByTheManager()
    {
        var services = new ServiceCollection();
        services.AddSessions(o => o.EnableBackgroundCleanup = false)
            .AddCredentialBinding(o => o.Key = RandomNumberGenerator.GetBytes(32))
            .AddIdentityBinding()
            .AddClientBinding(o => o.Mode = ClientBindingMode.Reject)
            .AddCredentialBinding(o => { });
        await using var provider = services.BuildServiceProvider();
        var manager = provider.GetRequiredService<ISessionManager>();
        var access = new SessionAccessContext { Credential = "key", Identity = new SessionIdentity("iss", "sub"), UserAgent = "ua" };

        var session = await manager.CreateAsync(new SessionCreateOptions { Access = access });

        provider.GetServices<ISessionGuard>().Select(g => g.Name).Should().Equal("credential", "identity", "client");
        session.Binding.Keys.Should().Contain(["cred.mac", "identity.hash", "client.ua"]);
        (await manager.GetAsync(session.Id, access)).IsFound.Should().BeTrue();
        (await manager.GetAsync(session.Id, new SessionAccessContext { Credential = "key", Identity = new SessionIdentity("iss", "sub"), UserAgent = "other" })).Status.Should().Be(SessionLookupStatus.Rejected);
    }

    [Fact]
    public async Task AddCredentialBinding_ShortKey_FailsWhenTheHostStarts()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSessions().AddCredentialBinding(o => o.Key = new byte[16]);
        using var host = builder.Build();

        var act = () => host.StartAsync();

        (await act.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("32 bytes");
    }

    [Fact]
    public void CredentialBindingGuard_ShortKeyOrPreviousKey_ThrowsNamingTheOption()
    {
        var shortKey = () => new CredentialBindingGuard(Options.Create(new CredentialBindingOptions { Key = new byte[31] }));
        var previous = new CredentialBindingOptions { Key = new byte[32] };
        previous.PreviousKeys.Add(new byte[8]);
        var shortPrevious = () => new CredentialBindingGuard(Options.Create(previous));

        shortKey.Should().Throw<OptionsValidationException>().WithMessage("*CredentialBindingOptions.Key*32*");
        shortPrevious.Should().Throw<OptionsValidationException>().WithMessage("*PreviousKeys?0?*");
    }

    [Fact]
    public void CredentialBindingGuard_NoKey_LogsAWarningAndStillBinds()
    {
        var logs = new CapturingLoggerProvider();
        var guard = new CredentialBindingGuard(Options.Create(new CredentialBindingOptions()), new Microsoft.Extensions.Logging.Logger<CredentialBindingGuard>(logs));
        var changes = new SessionChanges();

        guard.Bind(new SessionAccessContext { Credential = "c" }, changes);

        logs.Entries.Should().ContainSingle(e => e.EventId.Id == 30 && e.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
        changes.BindingChanges.Should().ContainKey("cred.mac");
    }

    [Fact]
    public void ClientBindingGuard_PrefixOutOfRange_Throws()
    {
        var act = () => new ClientBindingGuard(Options.Create(new ClientBindingOptions { IPv4PrefixLength = 33 }));

        act.Should().Throw<OptionsValidationException>().WithMessage("*IPv4PrefixLength*");
    }

    [Fact]
    public async Task AddLifecycleHandler_ReceivesEvents()
    {
        var services = new ServiceCollection();
        services.AddSessions(o => o.EnableBackgroundCleanup = false).AddLifecycleHandler<CountingHandler>();
        await using var provider = services.BuildServiceProvider();

        var session = await provider.GetRequiredService<ISessionManager>().CreateAsync();
        await provider.GetRequiredService<ISessionManager>().DeleteAsync(session.Id);

        provider.GetServices<ISessionLifecycleHandler>().OfType<CountingHandler>().Single().Kinds.Should().Equal(SessionEventKind.Created, SessionEventKind.Deleted);
    }

    private sealed class CountingHandler : ISessionLifecycleHandler
    {
        public List<SessionEventKind> Kinds { get; } = [];

        public ValueTask HandleAsync(SessionEvent sessionEvent, CancellationToken cancellationToken)
        {
            Kinds.Add(sessionEvent.Kind);
            return ValueTask.CompletedTask;
        }
    }
}
