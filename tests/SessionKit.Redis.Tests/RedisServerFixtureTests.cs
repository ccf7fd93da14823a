namespace SessionKit.Tests;

/// <summary>
/// How the shared <see cref="RedisServerFixture"/> chooses its server: external, then a container, then a local
/// process. The container here is a fake launcher whose "container" is a private local redis-server, so the choice
/// is tested on every machine, with or without a container engine.
/// </summary>
public sealed class RedisServerFixtureTests : IAsyncLifetime
{
    private static readonly Uri FakeEndpoint = new("unix:///nowhere/docker.sock");

    private readonly List<IAsyncDisposable> _owned = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }
    }

    [Fact]
    public async Task InitializeAsync_EndpointAnswers_RunsInTheContainer()
    {
        var launcher = new FakeLauncher(answers: true, _ => BackedByLocalServerAsync());

        var fixture = await StartAsync(launcher, RedisContainerMode.Auto);

        fixture.Kind.Should().Be(RedisServerKind.Container);
        fixture.EndPoint.Should().Be(launcher.Started.Single().EndPoint);
        fixture.Description.Should().Be("fake container");
        (await RedisServerFixture.PingOnceAsync(fixture.Host, fixture.Port)).Should().BeTrue();
    }

    [Fact]
    public async Task InitializeAsync_NoEndpointInAutoMode_StartsALocalServer()
    {
        var launcher = new FakeLauncher(answers: false);

        var fixture = await StartAsync(launcher, RedisContainerMode.Auto);

        fixture.Kind.Should().Be(RedisServerKind.Local);
        fixture.IsRunning.Should().BeTrue();
        fixture.Description.Should().Contain("no Docker-compatible endpoint answered").And.Contain(FakeEndpoint.ToString());
        launcher.Starts.Should().Be(0);
    }

    [Fact]
    public async Task InitializeAsync_NoEndpointInRequiredMode_FailsNamingWhatWasTried()
    {
        var fixture = Own(new RedisServerFixture(new FakeLauncher(answers: false), RedisContainerMode.Required, externalEndPoint: null));

        var act = fixture.InitializeAsync;

        (await act.Should().ThrowAsync<InvalidOperationException>())
            .Which.Message.Should().Contain("SESSIONKIT_TEST_REDIS_CONTAINER=required").And.Contain(FakeEndpoint.ToString());
    }

    [Fact]
    public async Task InitializeAsync_ContainerFailsInAutoMode_FallsBackToALocalServerAndSaysWhy()
    {
        var launcher = new FakeLauncher(answers: true, _ => throw new InvalidOperationException("the engine said no"));

        var fixture = await StartAsync(launcher, RedisContainerMode.Auto);

        fixture.Kind.Should().Be(RedisServerKind.Local);
        fixture.Description.Should().Contain("the engine said no");
        launcher.Starts.Should().Be(2, "a failed start is tried once more on a fresh port");
    }

    [Fact]
    public async Task InitializeAsync_ContainerFailsInRequiredMode_FailsWithTheEnginesReason()
    {
        var launcher = new FakeLauncher(answers: true, _ => throw new InvalidOperationException("the engine said no"));
        var fixture = Own(new RedisServerFixture(launcher, RedisContainerMode.Required, externalEndPoint: null));

        var act = fixture.InitializeAsync;

        (await act.Should().ThrowAsync<InvalidOperationException>())
            .Which.Message.Should().Contain("SESSIONKIT_TEST_REDIS_CONTAINER=required").And.Contain("the engine said no");
    }

    [Fact]
    public async Task InitializeAsync_FirstStartFails_TheSecondRunsOnAnotherPortAndIsRecorded()
    {
        var launcher = new FakeLauncher(answers: true, attempt => attempt == 1
            ? throw new InvalidOperationException("address already in use")
            : BackedByLocalServerAsync());

        var fixture = await StartAsync(launcher, RedisContainerMode.Required);

        fixture.Kind.Should().Be(RedisServerKind.Container);
        fixture.Description.Should().Contain("attempt 2").And.Contain("address already in use");
        launcher.Ports.Should().HaveCount(2);
    }

    [Fact]
    public async Task InitializeAsync_ContainerOffLoopback_IsRefusedBeforeAnyConnection()
    {
        // 192.0.2.0/24 is TEST-NET-1: the fixture must refuse it without ever connecting.
        var launcher = new FakeLauncher(answers: true, _ => Task.FromResult<IRedisContainer>(new FakeContainer("192.0.2.7", 6379)));
        var fixture = Own(new RedisServerFixture(launcher, RedisContainerMode.Required, externalEndPoint: null));

        var act = fixture.InitializeAsync;

        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("not on loopback");
    }

    [Fact]
    public async Task InitializeAsync_NeverMode_DoesNotProbe()
    {
        var launcher = new FakeLauncher(answers: true, _ => BackedByLocalServerAsync());

        var fixture = await StartAsync(launcher, RedisContainerMode.Never);

        fixture.Kind.Should().Be(RedisServerKind.Local);
        launcher.Probes.Should().Be(0);
    }

    [Fact]
    public async Task InitializeAsync_ExternalServerSet_WinsWithoutProbing()
    {
        var external = Own(await RedisServerFixture.StartPrivateAsync());
        var launcher = new FakeLauncher(answers: true, _ => BackedByLocalServerAsync());

        var fixture = await StartAsync(launcher, RedisContainerMode.Auto, external.EndPoint);

        fixture.Kind.Should().Be(RedisServerKind.External);
        fixture.EndPoint.Should().Be(external.EndPoint);
        launcher.Probes.Should().Be(0);
    }

    [Fact]
    public async Task InitializeAsync_ExternalServerAndRequiredContainer_Contradict()
    {
        var fixture = Own(new RedisServerFixture(new FakeLauncher(answers: true), RedisContainerMode.Required, "127.0.0.1:6379"));

        var act = fixture.InitializeAsync;

        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("contradict");
    }

    [Fact]
    public async Task InitializeAsync_NoLauncherInRequiredMode_StartsALocalServer()
    {
        // Projects without Testcontainers have no container path; `required` binds only fixtures that have one.
        var fixture = Own(new RedisServerFixture(containers: null, RedisContainerMode.Required, externalEndPoint: null));

        await fixture.InitializeAsync();

        fixture.Kind.Should().Be(RedisServerKind.Local);
    }

    [Fact]
    public async Task StopAndPause_Container_AreRefused()
    {
        var fixture = await StartAsync(new FakeLauncher(answers: true, _ => BackedByLocalServerAsync()), RedisContainerMode.Auto);

        await fixture.Invoking(f => f.StopAsync()).Should().ThrowAsync<InvalidOperationException>().WithMessage("*StartPrivateAsync*");
        fixture.Invoking(f => f.Pause()).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public async Task DisposeAsync_Container_RemovesIt()
    {
        var launcher = new FakeLauncher(answers: true, _ => BackedByLocalServerAsync());
        var fixture = await StartAsync(launcher, RedisContainerMode.Auto);

        await fixture.DisposeAsync();

        launcher.Started.Single().IsRunning.Should().BeFalse();
    }

    [Theory]
    [InlineData(null, RedisContainerMode.Auto)]
    [InlineData("", RedisContainerMode.Auto)]
    [InlineData("auto", RedisContainerMode.Auto)]
    [InlineData(" Never ", RedisContainerMode.Never)]
    [InlineData("REQUIRED", RedisContainerMode.Required)]
    public void ParseContainerMode_KnownValue_Parses(string? value, RedisContainerMode expected) =>
        RedisServerFixture.ParseContainerMode(value).Should().Be(expected);

    [Fact]
    public void ParseContainerMode_UnknownValue_FailsNamingTheVariable() =>
        FluentActions.Invoking(() => RedisServerFixture.ParseContainerMode("always"))
            .Should().Throw<InvalidOperationException>().WithMessage("SESSIONKIT_TEST_REDIS_CONTAINER*always*");

    private static async Task<IRedisContainer> BackedByLocalServerAsync()
    {
        var server = await RedisServerFixture.StartPrivateAsync();
        return new FakeContainer(server);
    }

    private async Task<RedisServerFixture> StartAsync(FakeLauncher launcher, RedisContainerMode mode, string? external = null)
    {
        var fixture = Own(new RedisServerFixture(launcher, mode, external));
        _owned.Add(launcher);
        await fixture.InitializeAsync();
        return fixture;
    }

    private T Own<T>(T disposable)
        where T : IAsyncDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    // A launcher whose endpoint answers or not, and whose starts run `start` with the attempt number.
    private sealed class FakeLauncher(bool answers, Func<int, Task<IRedisContainer>>? start = null) : IRedisContainerLauncher, IAsyncDisposable
    {
        private readonly List<IRedisContainer> _containers = [];

        public int Probes { get; private set; }

        public int Starts { get; private set; }

        public List<int> Ports { get; } = [];

        public IEnumerable<RedisServerFixture> Started => _containers.OfType<FakeContainer>().Select(c => c.Server!);

        public IReadOnlyList<Uri> Candidates { get; } = [FakeEndpoint];

        public Task<Uri?> FindEndpointAsync(CancellationToken cancellationToken = default)
        {
            Probes++;
            return Task.FromResult(answers ? FakeEndpoint : null);
        }

        public async Task<IRedisContainer> StartAsync(Uri endpoint, int freePort, CancellationToken cancellationToken = default)
        {
            Starts++;
            Ports.Add(freePort);
            var container = await (start ?? (_ => throw new InvalidOperationException("no start expected")))(Starts);
            _containers.Add(container);
            return container;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var container in _containers)
            {
                await container.DisposeAsync();
            }
        }
    }

    private sealed class FakeContainer : IRedisContainer
    {
        public FakeContainer(RedisServerFixture server)
        {
            Server = server;
            Host = server.Host;
            Port = server.Port;
        }

        public FakeContainer(string host, int port)
        {
            Host = host;
            Port = port;
        }

        public RedisServerFixture? Server { get; }

        public string Host { get; }

        public int Port { get; }

        public string Description => "fake container";

        public async ValueTask DisposeAsync()
        {
            if (Server is not null)
            {
                await Server.DisposeAsync();
            }
        }
    }
}
