using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SessionKit.Stores;

namespace SessionKit.Tests.DependencyInjection;

public sealed class SessionKitServiceCollectionExtensionsTests
{
    [Fact]
    public async Task AddSessions_Defaults_ResolveManagerOnInMemoryStoreWithSystemClock()
    {
        await using var provider = new ServiceCollection().AddSessions().Services.BuildServiceProvider();

        var manager = provider.GetRequiredService<ISessionManager>();

        manager.Should().BeOfType<SessionManager>();
        provider.GetRequiredService<ISessionStore>().Should().BeOfType<InMemorySessionStore>();
        provider.GetRequiredService<TimeProvider>().Should().BeSameAs(TimeProvider.System);
        provider.GetRequiredService<ISessionManager>().Should().BeSameAs(manager);
        provider.GetRequiredService<SessionManager>().Should().BeSameAs(manager);
    }

    [Fact]
    public async Task AddSessions_ReturnsBuilderOverTheSameServices()
    {
        var services = new ServiceCollection();

        var builder = services.AddSessions();

        builder.Services.Should().BeSameAs(services);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task AddSessions_CalledTwice_RegistersOnce()
    {
        var services = new ServiceCollection();
        services.AddSessions();
        services.AddSessions();

        services.Count(d => d.ServiceType == typeof(ISessionStore)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IHostedService)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IValidateOptions<SessionKitOptions>)).Should().Be(1);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task AddSessions_PreRegisteredTimeProvider_IsKept()
    {
        var clock = new ManualTimeProvider();
        var services = new ServiceCollection().AddSingleton<TimeProvider>(clock);
        services.AddSessions(o => o.EnableBackgroundCleanup = false);
        await using var provider = services.BuildServiceProvider();

        var session = await provider.GetRequiredService<ISessionManager>().CreateAsync();

        session.CreatedAt.Should().Be(clock.GetUtcNow());
    }

    [Fact]
    public async Task AddSessions_ConfigureDelegate_AppliesOptions()
    {
        var clock = new ManualTimeProvider();
        var services = new ServiceCollection().AddSingleton<TimeProvider>(clock);
        services.AddSessions(o => o.IdleTimeout = TimeSpan.FromMinutes(3));
        await using var provider = services.BuildServiceProvider();

        var session = await provider.GetRequiredService<ISessionManager>().CreateAsync();

        session.IdleTimeout.Should().Be(TimeSpan.FromMinutes(3));
    }

    [Fact]
    public async Task AddSessions_ConfigurationSection_BindsOptions()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SessionKit:IdleTimeout"] = "00:07:00",
            ["SessionKit:AbsoluteTimeout"] = "02:00:00",
            ["SessionKit:MaxSessionsPerUser"] = "4",
            ["SessionKit:MaxSessionsPolicy"] = "RejectNew",
            ["SessionKit:MaxStateBytes"] = "2048",
        }).Build();
        var services = new ServiceCollection();
        services.AddSessions(configuration.GetSection(SessionKitOptions.SectionName));
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<SessionKitOptions>>().Value;

        options.IdleTimeout.Should().Be(TimeSpan.FromMinutes(7));
        options.AbsoluteTimeout.Should().Be(TimeSpan.FromHours(2));
        options.MaxSessionsPerUser.Should().Be(4);
        options.MaxSessionsPolicy.Should().Be(MaxSessionsPolicy.RejectNew);
        options.MaxStateBytes.Should().Be(2048);
    }

    [Fact]
    public async Task AddSessions_InvalidOptions_FailWhenTheHostStarts()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSessions(o => o.AbsoluteTimeout = TimeSpan.FromMinutes(1));
        using var host = builder.Build();

        var act = () => host.StartAsync();

        (await act.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("AbsoluteTimeout");
    }

    [Fact]
    public async Task AddSessions_InvalidOptions_FailWhenTheManagerIsResolvedWithoutAHost()
    {
        var services = new ServiceCollection();
        services.AddSessions(o => o.IdleTimeout = TimeSpan.Zero);
        await using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<ISessionManager>();

        act.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("IdleTimeout");
    }

    [Fact]
    public async Task UseInMemoryStore_ReplacesAnEarlierStore()
    {
        var services = new ServiceCollection();
        services.AddSingleton<ISessionStore>(new CountingSessionStore(new InMemorySessionStore()));
        services.AddSessions().UseInMemoryStore();
        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<ISessionStore>().Should().BeOfType<InMemorySessionStore>();
        services.Count(d => d.ServiceType == typeof(ISessionStore)).Should().Be(1);
    }

    [Fact]
    public async Task AddSessions_PreRegisteredStore_IsKept()
    {
        var custom = new CountingSessionStore(new InMemorySessionStore());
        var services = new ServiceCollection().AddSingleton<ISessionStore>(custom);
        services.AddSessions(o => o.EnableBackgroundCleanup = false);
        await using var provider = services.BuildServiceProvider();

        await provider.GetRequiredService<ISessionManager>().CreateAsync();

        custom.Calls("create").Should().Be(1);
    }

    [Fact]
    public async Task HostedService_StartsCleanupAtHostStart_AndStopsWithTheHost()
    {
        var clock = new ManualTimeProvider();
        var store = new CountingSessionStore(new InMemorySessionStore());
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<TimeProvider>(clock).AddSingleton<ISessionStore>(store);
        builder.Services.AddSessions(o => o.CleanupInterval = TimeSpan.FromMinutes(1));
        using var host = builder.Build();

        await host.StartAsync();
        clock.Advance(TimeSpan.FromMinutes(1));
        var sweepsWhileRunning = store.Calls("remove_expired");
        await host.StopAsync();
        clock.Advance(TimeSpan.FromMinutes(5));

        sweepsWhileRunning.Should().Be(1, "the manager was created at host start, before anyone resolved it");
        store.Calls("remove_expired").Should().Be(1, "stopping the host stops the sweep");
    }

    [Fact]
    public async Task Dispose_ServiceProvider_StopsCleanupTimer()
    {
        var clock = new ManualTimeProvider();
        var services = new ServiceCollection().AddSingleton<TimeProvider>(clock);
        services.AddSessions();
        var provider = services.BuildServiceProvider();
        provider.GetRequiredService<ISessionManager>();
        clock.ArmedTimerCount.Should().Be(1);

        await provider.DisposeAsync();

        clock.ArmedTimerCount.Should().Be(0);
    }
}
