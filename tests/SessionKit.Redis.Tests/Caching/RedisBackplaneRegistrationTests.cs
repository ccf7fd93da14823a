using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SessionKit.Caching;
using SessionKit.Redis;

namespace SessionKit.Tests.Caching;

public sealed class RedisBackplaneRegistrationTests(RedisTestServer redis) : IClassFixture<RedisTestServer>
{
    [Fact]
    public async Task AddRedisBackplane_WithoutItsOwnConnection_UsesTheStoresAndTurnsTheCacheOn()
    {
        var prefix = RedisTestServer.NewPrefix();
        var services = new ServiceCollection();
        services.AddSessions(o => o.EnableBackgroundCleanup = false)
            .UseRedisStore(o => { o.Configuration = redis.Configuration; o.KeyPrefix = prefix; })
            .AddRedisBackplane(o => o.Channel = prefix + "backplane");
        await using var provider = services.BuildServiceProvider();

        var backplane = provider.GetRequiredService<ISessionBackplane>();
        var options = provider.GetRequiredService<IOptions<RedisSessionBackplaneOptions>>().Value;

        backplane.Should().BeOfType<RedisSessionBackplane>();
        options.Configuration.Should().BeNull("the backplane shares the store's multiplexer instead of opening its own");
        options.ConnectionMultiplexerFactory.Should().NotBeNull();
        (await options.ConnectionMultiplexerFactory!()).Should().BeSameAs(await provider.GetRequiredService<RedisSessionStore>().GetMultiplexerAsync());
        provider.GetRequiredService<IOptions<SessionKitOptions>>().Value.Cache.Enabled.Should().BeTrue();
        await RedisNode.WaitUntilAsync(() => backplane.IsConnected, "the backplane to connect");
        var manager = provider.GetRequiredService<ISessionManager>();
        var session = await manager.CreateAsync();
        (await manager.GetAsync(session.Id)).IsFound.Should().BeTrue();
        await redis.DeletePrefixAsync(prefix);
    }

    [Fact]
    public void Options_WithoutAnyConnection_AreRejected()
    {
        var act = () => new RedisSessionBackplane(Options.Create(new RedisSessionBackplaneOptions()));

        act.Should().Throw<OptionsValidationException>().WithMessage("*Configuration*");
    }
}
