using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SessionKit.Redis;
using StackExchange.Redis;

namespace SessionKit.Tests;

/// <summary>Options validation and the DI registration of the Redis store.</summary>
public sealed class RedisSessionStoreOptionsTests(RedisTestServer redis) : IClassFixture<RedisTestServer>
{
    [Theory]
    [InlineData(0, "needs a connection")]
    [InlineData(2, "only one of")]
    public void Constructor_WrongNumberOfConnectionSources_ThrowsNamingTheOptions(int sources, string message)
    {
        var options = new RedisSessionStoreOptions();
        if (sources == 2)
        {
            options.Configuration = "localhost:1";
            options.ConnectionMultiplexer = redis.Multiplexer;
        }

        var act = () => new RedisSessionStore(Options.Create(options));

        act.Should().Throw<OptionsValidationException>().WithMessage($"*{message}*");
    }

    [Fact]
    public void Constructor_UnparsableConfiguration_Throws()
    {
        var act = () => new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { Configuration = "localhost:1,notAnOption=1" }));

        act.Should().Throw<OptionsValidationException>().WithMessage("*Configuration*");
    }

    [Fact]
    public void Setters_RejectNonsenseEarly()
    {
        var options = new RedisSessionStoreOptions();

        ((Action)(() => options.OperationTimeout = TimeSpan.Zero)).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => options.ExpiryGracePeriod = TimeSpan.FromSeconds(-1))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => options.KeyPrefix = string.Empty)).Should().Throw<ArgumentException>();
    }

    [Fact]
    public async Task UseRedisStore_ReplacesTheDefaultStore_AndServesSessions()
    {
        var prefix = RedisTestServer.NewPrefix();
        var services = new ServiceCollection();
        services.AddSessions(o => o.EnableBackgroundCleanup = false).UseRedisStore(o =>
        {
            o.ConnectionMultiplexer = redis.Multiplexer;
            o.KeyPrefix = prefix;
        });
        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<ISessionStore>().Should().BeOfType<RedisSessionStore>();
        var manager = provider.GetRequiredService<ISessionManager>();
        var session = await manager.CreateAsync();
        (await manager.GetAsync(session.Id)).IsFound.Should().BeTrue();
        (await redis.Multiplexer.GetDatabase().KeyExistsAsync(RedisLayout.SessionKey(prefix, session.Id))).Should().BeTrue();

        await provider.DisposeAsync();
        redis.Multiplexer.IsConnected.Should().BeTrue("disposing the container never disposes a multiplexer the host supplied");
        await redis.DeletePrefixAsync(prefix);
    }

    [Fact]
    public void UseRedisStore_FromConfiguration_BindsTheSection()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SessionKit:Redis:Configuration"] = redis.Configuration,
            ["SessionKit:Redis:KeyPrefix"] = "bound:",
            ["SessionKit:Redis:OperationTimeout"] = "00:00:02",
            ["SessionKit:Redis:ExpiryGracePeriod"] = "00:10:00",
        }).Build();
        var services = new ServiceCollection();
        services.AddSessions().UseRedisStore(configuration.GetSection(RedisSessionStoreOptions.SectionName));
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<RedisSessionStoreOptions>>().Value;

        options.Configuration.Should().Be(redis.Configuration);
        options.KeyPrefix.Should().Be("bound:");
        options.OperationTimeout.Should().Be(TimeSpan.FromSeconds(2));
        options.ExpiryGracePeriod.Should().Be(TimeSpan.FromMinutes(10));
    }

    [Fact]
    public async Task HostStart_WithoutAConnection_FailsValidation()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSessions().UseRedisStore(static _ => { });
        using var host = builder.Build();

        var act = async () => await host.StartAsync();

        await act.Should().ThrowAsync<OptionsValidationException>().WithMessage("*needs a connection*");
    }

    [Fact]
    public async Task Store_FromConfiguration_OwnsAndClosesItsMultiplexer_FromFactory_DoesNot()
    {
        IConnectionMultiplexer? created = null;
        var factoryStore = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions
        {
            ConnectionMultiplexerFactory = async () => created = await ConnectionMultiplexer.ConnectAsync(redis.Configuration),
            KeyPrefix = RedisTestServer.NewPrefix(),
        }));
        (await factoryStore.ExistsAsync("x", DateTimeOffset.UtcNow)).Should().BeFalse();
        await factoryStore.DisposeAsync();
        created!.IsConnected.Should().BeTrue("the host owns what its factory returns");
        created.Dispose();

        var ownedStore = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { Configuration = redis.Configuration, KeyPrefix = RedisTestServer.NewPrefix() }));
        (await ownedStore.ExistsAsync("x", DateTimeOffset.UtcNow)).Should().BeFalse();
        await ownedStore.DisposeAsync();
        var afterDispose = async () => await ownedStore.ExistsAsync("x", DateTimeOffset.UtcNow);
        await afterDispose.Should().ThrowAsync<ObjectDisposedException>();
    }
}
