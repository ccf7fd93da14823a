using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SessionKit.Caching;
using SessionKit.Stores;

namespace SessionKit.Tests.Caching;

public sealed class SessionCacheRegistrationTests
{
    [Fact]
    public async Task AddSessionCache_WithARemoteStore_TurnsTheCacheOn()
    {
        var services = new ServiceCollection();
        services.AddSingleton<ISessionStore>(new CountingSessionStore(new InMemorySessionStore()));
        services.AddSessions(o => o.EnableBackgroundCleanup = false).AddSessionCache(o => o.MaxEntries = 50);
        await using var provider = services.BuildServiceProvider();

        var manager = provider.GetRequiredService<SessionManager>();

        manager.Caching.Cache.Should().NotBeNull();
        provider.GetRequiredService<ISessionBackplane>().Should().BeOfType<InProcessSessionBackplane>();
        provider.GetRequiredService<IOptions<SessionKitOptions>>().Value.Cache.MaxEntries.Should().Be(50);
    }

    [Fact]
    public async Task AddSessions_WithoutAddSessionCache_HasNoCache()
    {
        var services = new ServiceCollection();
        services.AddSingleton<ISessionStore>(new CountingSessionStore(new InMemorySessionStore()));
        services.AddSessions(o => o.EnableBackgroundCleanup = false);
        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<SessionManager>().Caching.Cache.Should().BeNull();
    }

    [Fact]
    public async Task AddSessionCache_InMemoryStore_HasNoCache()
    {
        var services = new ServiceCollection();
        services.AddSessions(o => o.EnableBackgroundCleanup = false).AddSessionCache();
        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<SessionManager>().Caching.Cache.Should().BeNull();
    }
}
