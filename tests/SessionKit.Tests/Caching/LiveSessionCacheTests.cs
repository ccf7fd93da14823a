using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SessionKit.Caching;
using SessionKit.Stores;

namespace SessionKit.Tests.Caching;

public sealed class LiveSessionCacheTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Start = ManagerHarness.Start;

    private readonly ManagerHarness _harness = new();
    private readonly ManualTimeProvider _time;
    private readonly InMemorySessionStore _memory;
    private readonly InProcessSessionBackplane _backplane = new();

    public LiveSessionCacheTests()
    {
        _time = _harness.Time;
        _memory = _harness.Memory;
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    private SessionManager Manager(ISessionStore? store = null, bool cache = false) =>
        _harness.Create(store, static o => o.EnableBackgroundCleanup = false, backplane: _backplane, cache: new SessionCacheOptions { Enabled = cache, WriteBehindTouches = false });

    private LiveSessionCache<Connection> Live(SessionManager manager, Activator activator, int capacity = 1000)
    {
        return _harness.Own(new LiveSessionCache<Connection>(manager, manager.Caching, activator, Options.Create(new LiveSessionOptions { Capacity = capacity })));
    }

    [Fact]
    public async Task Get_TenThousandConcurrentGetsOfAColdSession_OneStoreLoadAndOneActivation()
    {
        var gated = new GatedStore(_memory);
        var manager = Manager(gated, cache: true);
        var activator = new Activator { Delay = TimeSpan.FromMilliseconds(50) };
        var live = Live(manager, activator);
        var session = await Manager().CreateAsync();
        gated.Close();

        var gets = Enumerable.Range(0, 10_000).Select(_ => live.GetAsync(session.Id, SessionAccessContext.NoSlide).AsTask()).ToArray();
        while (Volatile.Read(ref gated.Waiting) == 0)
        {
            await Task.Delay(1);
        }

        gated.Open();
        var results = await Task.WhenAll(gets);

        results.Should().OnlyContain(r => r.IsFound);
        results.Select(r => r.Live!.Value).Distinct().Should().ContainSingle();
        gated.Gets.Should().Be(1);
        activator.Activations.Should().Be(1);
    }

    [Fact]
    public async Task Get_Again_ReturnsTheSameLiveObject()
    {
        var manager = Manager();
        var activator = new Activator();
        var live = Live(manager, activator);
        var session = await manager.CreateAsync();

        var first = await live.GetAsync(session.Id);
        var second = await live.GetAsync(session.Id);

        second.Live!.Value.Should().BeSameAs(first.Live!.Value);
        activator.Activations.Should().Be(1);
    }

    [Fact]
    public async Task Delete_DisposesTheLiveObject()
    {
        var manager = Manager();
        var live = Live(manager, new Activator());
        var session = await manager.CreateAsync();
        var connection = (await live.GetAsync(session.Id)).Live!.Value;

        await manager.DeleteAsync(session.Id);

        connection.Disposed.Should().BeTrue();
        live.Count.Should().Be(0);
    }

    [Fact]
    public async Task Expiry_SweptByCleanup_DisposesTheLiveObject()
    {
        var manager = Manager();
        var live = Live(manager, new Activator());
        var session = await manager.CreateAsync();
        var connection = (await live.GetAsync(session.Id)).Live!.Value;

        _time.Advance(session.IdleTimeout);
        await manager.CleanupExpiredAsync();

        connection.Disposed.Should().BeTrue();
    }

    [Fact]
    public async Task Expiry_NoticedOnAccess_DisposesTheLiveObject()
    {
        var manager = Manager();
        var live = Live(manager, new Activator());
        var session = await manager.CreateAsync();
        var connection = (await live.GetAsync(session.Id)).Live!.Value;

        _time.Advance(session.IdleTimeout);
        var after = await live.GetAsync(session.Id);

        after.Status.Should().Be(SessionLookupStatus.NotFound);
        connection.Disposed.Should().BeTrue();
    }

    [Fact]
    public async Task Rotation_DisposesTheOldObject_AndTheNewIdActivatesAFreshOne()
    {
        var manager = Manager();
        var activator = new Activator();
        var live = Live(manager, activator);
        var session = await manager.CreateAsync();
        var old = (await live.GetAsync(session.Id)).Live!.Value;

        var rotated = await manager.RotateAsync(session.Id);
        var fresh = (await live.GetAsync(rotated.Session!.Id)).Live!.Value;

        old.Disposed.Should().BeTrue();
        fresh.Should().NotBeSameAs(old);
        fresh.Disposed.Should().BeFalse();
        fresh.SessionId.Should().Be(rotated.Session.Id);
    }

    [Fact]
    public async Task Capacity_Exceeded_DisposesTheLeastRecentlyUsed()
    {
        var manager = Manager();
        var live = Live(manager, new Activator(), capacity: 2);
        var a = await manager.CreateAsync();
        var b = await manager.CreateAsync();
        var c = await manager.CreateAsync();
        var first = (await live.GetAsync(a.Id)).Live!.Value;
        _time.Advance(TimeSpan.FromSeconds(1));
        var second = (await live.GetAsync(b.Id)).Live!.Value;
        _time.Advance(TimeSpan.FromSeconds(1));

        var third = (await live.GetAsync(c.Id)).Live!.Value;

        live.Count.Should().Be(2);
        first.Disposed.Should().BeTrue();
        second.Disposed.Should().BeFalse();
        third.Disposed.Should().BeFalse();
    }

    [Fact]
    public async Task Eviction_ThenReactivation_NeverDisposesTheNewerObject()
    {
        var manager = Manager();
        var activator = new Activator();
        var live = Live(manager, activator, capacity: 1);
        var a = await manager.CreateAsync();
        var b = await manager.CreateAsync();
        var older = (await live.GetAsync(a.Id)).Live!.Value;
        _time.Advance(TimeSpan.FromSeconds(1));
        await live.GetAsync(b.Id);
        _time.Advance(TimeSpan.FromSeconds(1));

        var newer = (await live.GetAsync(a.Id)).Live!.Value;
        await manager.UpdateAsync(a.Id, new SessionChanges().SetMetadata("k", "v"));
        var again = (await live.GetAsync(a.Id)).Live!.Value;

        older.Disposed.Should().BeTrue();
        newer.Should().NotBeSameAs(older);
        newer.Disposed.Should().BeFalse("a data change is not a reason to rebuild, and the old object's removal must not touch the new one");
        again.Should().BeSameAs(newer);
    }

    [Fact]
    public async Task DeleteOnAnotherNode_DisposesThisNodesObject()
    {
        var a = Manager(new CountingSessionStore(_memory), cache: true);
        var b = Manager(new CountingSessionStore(_memory), cache: true);
        var live = Live(b, new Activator());
        var session = await a.CreateAsync();
        var connection = (await live.GetAsync(session.Id)).Live!.Value;

        await a.DeleteAsync(session.Id);

        connection.Disposed.Should().BeTrue();
        (await live.GetAsync(session.Id)).Status.Should().Be(SessionLookupStatus.NotFound);
    }

    [Fact]
    public async Task DeleteDuringActivation_DisposesTheObjectAndKeepsNothing()
    {
        var manager = Manager();
        var activator = new Activator { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var live = Live(manager, activator);
        var session = await manager.CreateAsync();
        var pending = live.GetAsync(session.Id).AsTask();
        while (activator.Activations == 0)
        {
            await Task.Delay(1);
        }

        await manager.DeleteAsync(session.Id);
        activator.Gate.SetResult();
        var returned = (await pending).Live!.Value;

        returned.Disposed.Should().BeTrue();
        live.Count.Should().Be(0);
    }

    [Fact]
    public async Task Dispose_DisposesEveryLiveObject()
    {
        var manager = Manager();
        var live = new LiveSessionCache<Connection>(manager, manager.Caching, new Activator());
        var session = await manager.CreateAsync();
        var connection = (await live.GetAsync(session.Id)).Live!.Value;

        await live.DisposeAsync();

        connection.Disposed.Should().BeTrue();
    }

    [Fact]
    public async Task AddLiveSessions_RegistersTheCache()
    {
        var services = new ServiceCollection();
        services.AddSessions(o => o.EnableBackgroundCleanup = false).AddLiveSessions<Connection, Activator>(o => o.Capacity = 7);
        await using var provider = services.BuildServiceProvider();

        var live = provider.GetRequiredService<ILiveSessionCache<Connection>>();
        var session = await provider.GetRequiredService<ISessionManager>().CreateAsync();

        (await live.GetAsync(session.Id)).Live!.Value.SessionId.Should().Be(session.Id);
        live.Should().BeSameAs(provider.GetRequiredService<LiveSessionCache<Connection>>());
    }

    public sealed class Connection(string sessionId) : IAsyncDisposable
    {
        public string SessionId { get; } = sessionId;

        public bool Disposed { get; private set; }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }

    public sealed class Activator : ISessionActivator<Connection>
    {
        private int _activations;

        public int Activations => Volatile.Read(ref _activations);

        public TimeSpan Delay { get; init; }

        public TaskCompletionSource? Gate { get; init; }

        public async ValueTask<Connection> ActivateAsync(Session session, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _activations);
            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay, cancellationToken);
            }

            if (Gate is not null)
            {
                await Gate.Task;
            }

            return new Connection(session.Id);
        }
    }
}
