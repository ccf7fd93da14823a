using Microsoft.Extensions.Options;

namespace SessionKit.Tests;

/// <summary>
/// The compound operations under real parallelism (DESIGN §12), on every store: rotation racing logout, writes and
/// other rotations; per-user limits under concurrent logins. Each race runs <see cref="Rounds"/> times on the real
/// clock; "nodes" are separate managers (each with its own store instance where the store allows) over one backend.
/// </summary>
public abstract partial class SessionRaceTests : IAsyncLifetime
{
    /// <summary>Rounds per race.</summary>
    protected const int Rounds = 100;

    private readonly List<IAsyncDisposable> _owned = [];

    /// <summary>Creates a store instance over the shared backend (called once per node).</summary>
    protected abstract ISessionStore CreateStore();

    /// <summary>Gets a value indicating whether managers may turn the restore-on-miss cache on (not in front of the in-memory store).</summary>
    protected virtual bool SupportsCache => true;

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }
    }

    /// <summary>Creates a manager ("node") on the real clock.</summary>
    protected SessionManager Node(Action<SessionKitOptions>? configure = null, SessionKit.Caching.ISessionBackplane? backplane = null)
    {
        var options = new SessionKitOptions { EnableBackgroundCleanup = false };
        configure?.Invoke(options);
        var store = CreateStore();
        if (store is IAsyncDisposable disposable)
        {
            _owned.Add(disposable);
        }

        var manager = new SessionManager(store, Options.Create(options), backplane: backplane);
        _owned.Add(manager);
        return manager;
    }

    /// <summary>Runs two operations as close to simultaneously as the thread pool allows, in random order.</summary>
    protected static async Task<(T1, T2)> RaceAsync<T1, T2>(Func<Task<T1>> first, Func<Task<T2>> second)
    {
        using var start = new Barrier(2);
        var a = Task.Run(async () => { start.SignalAndWait(); return await first(); });
        var b = Task.Run(async () => { start.SignalAndWait(); return await second(); });
        return (await a, await b);
    }

    [Fact]
    public async Task GetThenUpdateOnTwoNodes_ReadModifyWriteWithTheReadVersion_LosesNoIncrementAndMergesEveryKey()
    {
        // Each request reads the counter and writes counter + 1 expecting the version it read (retrying on conflict),
        // and sets a key of its own: the update may skip its read-first on the snapshot the get left, but must never
        // land on a version other than the one read.
        var a = Node();
        var b = Node();
        var session = await a.CreateAsync(new SessionCreateOptions().WithState("counter", 0));
        const int PerNode = 40;

        async Task<int> RunAsync(SessionManager node, string name)
        {
            var conflicts = 0;
            for (var i = 0; i < PerNode; i++)
            {
                while (true)
                {
                    var read = await node.GetAsync(session.Id);
                    var counter = read.Session!.GetState<int>("counter");
                    var changes = new SessionChanges { ExpectedVersion = read.Session.Version }.SetState("counter", counter + 1).SetMetadata(name + i, "x");
                    var result = await node.UpdateAsync(session.Id, changes);
                    if (result.Status == SessionUpdateStatus.Updated)
                    {
                        break;
                    }

                    result.Status.Should().Be(SessionUpdateStatus.Conflict);
                    conflicts++;
                }
            }

            return conflicts;
        }

        var (conflictsA, conflictsB) = await RaceAsync(() => RunAsync(a, "a"), () => RunAsync(b, "b"));

        var final = (await a.GetAsync(session.Id)).Session!;
        final.GetState<int>("counter").Should().Be(2 * PerNode, $"no increment is lost ({conflictsA + conflictsB} conflicts retried)");
        final.Metadata.Should().HaveCount(2 * PerNode, "every request's own key landed");
        final.Version.Should().Be(1 + (2 * PerNode));
    }

    [Fact]
    public async Task UpdateAfterAGet_WhenAnotherNodeWroteBetween_AppliesOnTopOfThatWrite()
    {
        var a = Node();
        var b = Node();
        var session = await a.CreateAsync();
        (await a.GetAsync(session.Id)).IsFound.Should().BeTrue(); // a now holds version 1 as just read
        (await b.UpdateAsync(session.Id, new SessionChanges().SetMetadata("from-b", "1"))).Status.Should().Be(SessionUpdateStatus.Updated);

        var result = await a.UpdateAsync(session.Id, new SessionChanges().SetMetadata("from-a", "1"));
        var stale = await a.UpdateAsync(session.Id, new SessionChanges { ExpectedVersion = 1 }.SetMetadata("late", "1"));

        result.Status.Should().Be(SessionUpdateStatus.Updated);
        result.Session!.Version.Should().Be(3);
        result.Session.Metadata.Should().ContainKeys("from-a", "from-b");
        stale.Status.Should().Be(SessionUpdateStatus.Conflict, "a caller's own expected version is still checked against the store");
        stale.CurrentVersion.Should().Be(3);
    }

    [Fact]
    public async Task DeleteRacingRotate_NoIdOfTheSessionIsLiveAfterBoth()
    {
        var a = Node();
        var b = Node();
        for (var round = 0; round < Rounds; round++)
        {
            var session = await a.CreateAsync(new SessionCreateOptions { UserId = "u" + round });
            var (rotated, _) = await RaceAsync(
                async () => await a.RotateAsync(session.Id),
                async () => await b.DeleteAsync(session.Id));

            (await a.GetAsync(session.Id)).IsFound.Should().BeFalse($"round {round}: the old id was logged out");
            (await b.GetAsync(session.Id)).IsFound.Should().BeFalse($"round {round}: the old id was logged out");
            if (rotated.Session is { } renewed)
            {
                (await a.GetAsync(renewed.Id)).IsFound.Should().BeFalse($"round {round}: a logout through any id of the chain ends it");
                (await b.GetAsync(renewed.Id)).IsFound.Should().BeFalse($"round {round}: a logout through any id of the chain ends it");
            }
        }
    }

    [Fact]
    public async Task DeleteUserSessionsRacingRotate_TheUserHasNoSessionAfterBoth()
    {
        var a = Node();
        var b = Node();
        for (var round = 0; round < Rounds; round++)
        {
            var user = "user-" + round;
            var session = await a.CreateAsync(new SessionCreateOptions { UserId = user });
            var (rotated, _) = await RaceAsync(
                async () => await a.RotateAsync(session.Id),
                async () => await b.DeleteUserSessionsAsync(user));

            (await b.QueryAsync(new SessionQuery { UserId = user })).Sessions.Should().BeEmpty($"round {round}");
            (await a.GetAsync(session.Id)).IsFound.Should().BeFalse($"round {round}");
            if (rotated.Session is { } renewed)
            {
                (await a.GetAsync(renewed.Id)).IsFound.Should().BeFalse($"round {round}");
            }
        }
    }

    [Fact]
    public async Task WritesRacingChainedRotations_NoAcknowledgedWriteIsLost()
    {
        var a = Node();
        var b = Node();
        var session = await a.CreateAsync();
        var current = session.Id;
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var manager = w % 2 == 0 ? a : b;
            for (var i = 0; !stop.IsCancellationRequested && i < 400; i++)
            {
                var key = $"w{w}-{i}";
                var result = await manager.UpdateAsync(Volatile.Read(ref current), new SessionChanges().SetMetadata(key, "1"));
                if (result.IsUpdated)
                {
                    acknowledged.Add(key);
                }
            }
        })).ToArray();

        for (var pair = 0; pair < Rounds / 2; pair++)
        {
            // Rotations in pairs, on both nodes, from the same id: one follows the other's chain.
            var from = Volatile.Read(ref current);
            var (first, second) = await RaceAsync(async () => await a.RotateAsync(from), async () => await b.RotateAsync(from));
            first.Status.Should().Be(SessionRotateStatus.Rotated);
            second.Status.Should().Be(SessionRotateStatus.Rotated);
            var end = (await a.GetAsync(first.Session!.Id)).Session!.Id;
            Volatile.Write(ref current, end);
        }

        await stop.CancelAsync();
        await Task.WhenAll(writers);
        var final = (await a.GetAsync(Volatile.Read(ref current))).Session!;
        acknowledged.Should().NotBeEmpty();
        final.Metadata.Keys.Should().Contain(acknowledged, "a write acknowledged anywhere on the chain reached the live record");
    }

    [Fact]
    public async Task RotateWhileFourWritersUpdate_AlwaysRotates()
    {
        var manager = Node();
        var session = await manager.CreateAsync();
        var current = session.Id;
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                await manager.UpdateAsync(Volatile.Read(ref current), new SessionChanges().SetState("counter", i));
            }
        })).ToArray();

        for (var rotation = 0; rotation < 40; rotation++)
        {
            var result = await manager.RotateAsync(Volatile.Read(ref current));
            result.Status.Should().Be(SessionRotateStatus.Rotated, $"rotation {rotation}: a busy session is not a missing one");
            Volatile.Write(ref current, result.Session!.Id);
        }

        await stop.CancelAsync();
        await Task.WhenAll(writers);
    }
}
