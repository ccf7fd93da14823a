using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using SessionKit.Redis;
using StackExchange.Redis;

namespace SessionKit.Tests;

/// <summary>
/// A host that runs a newer StackExchange.Redis than SessionKit.Redis compiles against: its own multiplexer goes to
/// the store through the public options, sessions work, and disposing the store leaves that multiplexer alone.
/// </summary>
public sealed class HostMultiplexerTests : IAsyncLifetime
{
    private readonly RedisServerFixture _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public void Client_IsTheVersionThisProjectPins()
    {
        var expected = typeof(HostMultiplexerTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "SessionKit.ExpectedRedisClient").Value;
        var actual = typeof(ConnectionMultiplexer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;

        actual.Should().StartWith(expected + "+", "the consumer must run on the client it pins, not the one SessionKit.Redis compiles against");
    }

    [Theory]
    [InlineData(RedisProtocol.Resp2)]
    [InlineData(RedisProtocol.Resp3)]
    public async Task SessionLifecycle_OnTheHostsMultiplexer_WorksAndLeavesItConnected(RedisProtocol protocol)
    {
        var configuration = ConfigurationOptions.Parse(_server.EndPoint);
        configuration.AbortOnConnectFail = false;
        configuration.Protocol = protocol;
        await using var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration);
        multiplexer.GetServer(_server.EndPoint).Protocol.Should().Be(protocol);
        var services = new ServiceCollection();
        services.AddSessions(o => o.EnableBackgroundCleanup = false).UseRedisStore(o =>
        {
            o.ConnectionMultiplexer = multiplexer;
            o.KeyPrefix = "consumer:" + Guid.NewGuid().ToString("N")[..8] + ":";
        });

        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        var sessions = provider.GetRequiredService<ISessionManager>();
        var session = await sessions.CreateAsync(new SessionCreateOptions { UserId = "alice" });
        var found = await sessions.GetAsync(session.Id);
        var updated = await sessions.UpdateAsync(session.Id, new SessionChanges().SetMetadata("theme", "dark").SetUserId(null));
        var deleted = await sessions.DeleteAsync(session.Id);
        var afterDelete = await sessions.GetAsync(session.Id);
        await provider.DisposeAsync();

        found.Session!.UserId.Should().Be("alice");
        updated.IsUpdated.Should().BeTrue();
        updated.Session!.Metadata["theme"].Should().Be("dark");
        updated.Session.UserId.Should().BeNull();
        deleted.Should().BeTrue();
        afterDelete.IsFound.Should().BeFalse();
        multiplexer.IsConnected.Should().BeTrue("the store must not dispose a multiplexer it was handed");
        (await multiplexer.GetDatabase().PingAsync()).Should().BePositive();
    }

    [Fact]
    public async Task Dispose_StoreOwnedMultiplexer_ClosesWithoutMissingMethods()
    {
        var store = new RedisSessionStore(Microsoft.Extensions.Options.Options.Create(new RedisSessionStoreOptions { Configuration = _server.EndPoint }));
        var other = new RedisSessionStore(Microsoft.Extensions.Options.Options.Create(new RedisSessionStoreOptions { Configuration = _server.EndPoint }));
        (await store.ExistsAsync("absent", DateTimeOffset.UtcNow)).Should().BeFalse();
        (await other.ExistsAsync("absent", DateTimeOffset.UtcNow)).Should().BeFalse();

        var disposeAsync = async () => await store.DisposeAsync();
        var dispose = () => other.Dispose();

        await disposeAsync.Should().NotThrowAsync();
        dispose.Should().NotThrow();
    }
}
