using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionKit.Redis;
using Xunit.Abstractions;

namespace SessionKit.Tests;

/// <summary>
/// Redis stopped, hung and restarted under a live store: every call fails with <see cref="SessionStoreException"/>
/// within the operation timeout, nothing hangs or starves the thread pool, and the same store works again once Redis
/// is back. Runs on a server this class owns.
/// </summary>
public sealed class RedisFaultTests(PrivateRedisTestServer redis, ITestOutputHelper output) : IClassFixture<PrivateRedisTestServer>, IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);
    // Scheduling slack for a loaded CI machine; the store itself gives up at the timeout (see the hung-server test's lower bound).
    private static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(2000);
    private static readonly TimeSpan RecoveryLimit = TimeSpan.FromSeconds(30);

    private readonly CapturingLoggerProvider _logs = new();

    private static DateTimeOffset Now => DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // Leave the server running for the next test, whatever this one did to it.
        if (!redis.Server.IsRunning)
        {
            await redis.Server.StartAsync();
        }

        _logs.Dispose();
    }

    [Fact]
    public async Task EveryOperation_WithRedisStopped_FailsWithStoreExceptionWithinTimeout_ThenWorksAfterRestart()
    {
        await using var store = NewOwnedStore();
        var live = await CreateAsync(store, "victim-user");

        await redis.Server.StopAsync();

        foreach (var (operation, call) in Operations(store, live.Id))
        {
            var (exception, elapsed) = await MeasureFailureAsync(call);
            output.WriteLine($"{operation}: {exception.GetType().Name} after {elapsed.TotalMilliseconds:F0} ms");
            exception.StoreName.Should().Be("redis");
            exception.Operation.Should().Be(operation);
            elapsed.Should().BeLessThan(Timeout + Slack, "{0} must fail within the operation timeout", operation);
            exception.ToString().Should().NotContain(live.Id, "a session id is a credential and never appears in an exception");
        }

        await redis.Server.StartAsync();
        var recovered = await WaitUntilWorksAsync(store);
        output.WriteLine($"recovered {recovered.TotalMilliseconds:F0} ms after the restart");

        var again = await CreateAsync(store, "victim-user");
        (await store.GetAsync(again.Id, Now)).Should().NotBeNull();
        (await store.TouchAsync(again.Id, Now + TimeSpan.FromSeconds(1))).Should().BeTrue("the touch script is sent again after the restart emptied the script cache");
        (await store.UpdateAsync(again.Id, new SessionChanges().SetMetadata("k", "v"), Now, 1024)).IsUpdated.Should().BeTrue();
        (await store.QueryAsync(new SessionQuery { UserId = "victim-user" }, Now)).Sessions.Select(static s => s.Id).Should().Contain(again.Id);
        (await store.DeleteAsync(again.Id, Now)).Should().NotBeNull();
        _logs.Entries.Should().Contain(static e => e.EventId.Id == 201, "the NOSCRIPT reload is logged");
        _logs.Entries.Should().NotContain(e => e.AllText.Contains(live.Id) || e.AllText.Contains(again.Id), "logs never hold a session id");
    }

    [Fact]
    public async Task EveryOperation_WithRedisHung_FailsWithStoreExceptionWithinTimeout_ThenWorksAfterResume()
    {
        await using var store = NewOwnedStore();
        var live = await CreateAsync(store, null);

        redis.Server.Pause();
        try
        {
            foreach (var (operation, call) in Operations(store, live.Id))
            {
                var (exception, elapsed) = await MeasureFailureAsync(call);
                output.WriteLine($"{operation} (hung): {exception.Message} after {elapsed.TotalMilliseconds:F0} ms");
                exception.Operation.Should().Be(operation);
                exception.InnerException.Should().BeOfType<TimeoutException>();
                elapsed.Should().BeGreaterThan(Timeout - TimeSpan.FromMilliseconds(100)).And.BeLessThan(Timeout + Slack);
            }
        }
        finally
        {
            redis.Server.Resume();
        }

        var recovered = await WaitUntilWorksAsync(store);
        output.WriteLine($"recovered {recovered.TotalMilliseconds:F0} ms after the resume");

        // A timeout means "outcome unknown": the timed-out delete may have run when Redis resumed, or the client may
        // have dropped it (2.x does under load, once it outlives the client's own timeout). Either way the session is
        // whole or gone, never half-written, and the idempotent retry the contract asks for settles it.
        // The contract (RedisSessionStoreOptions.OperationTimeout): each write is one script, so a timed-out update left
        // the version unchanged, or one higher with the whole change applied; never a part of it.
        var after = await store.GetAsync(live.Id, Now);
        if (after is not null)
        {
            if (after.Version == live.Version)
            {
                after.Metadata.Should().NotContainKey("k", "an update that did not bump the version wrote nothing");
            }
            else
            {
                after.Version.Should().Be(live.Version + 1, "the timed-out update ran once, whole");
                after.Metadata.Should().Contain("k", "v");
            }
        }

        await store.DeleteAsync(live.Id, Now);
        (await store.GetAsync(live.Id, Now)).Should().BeNull("the retried delete removed it");
        var fresh = await CreateAsync(store, null);
        (await store.GetAsync(fresh.Id, Now)).Should().NotBeNull();
    }

    [Fact]
    public async Task FiveHundredConcurrentGets_WithRedisHung_AllFailWithinTimeout_AndThreadPoolStaysResponsive()
    {
        await using var store = NewOwnedStore();
        var live = await CreateAsync(store, null);

        redis.Server.Pause();
        try
        {
            var clock = Stopwatch.StartNew();
            var calls = Enumerable.Range(0, 500).Select(_ => Task.Run(async () =>
            {
                try
                {
                    await store.GetAsync(live.Id, Now);
                    return false;
                }
                catch (SessionStoreException)
                {
                    return true;
                }
            })).ToArray();

            // While 500 calls wait on a hung server, a trivial work item still runs at once.
            await Task.Delay(Timeout / 2);
            var probe = Stopwatch.StartNew();
            await Task.Run(static () => 1);
            probe.Stop();

            var failed = await Task.WhenAll(calls);
            clock.Stop();
            output.WriteLine($"500 concurrent gets failed after {clock.ElapsedMilliseconds} ms; thread-pool probe {probe.Elapsed.TotalMilliseconds:F1} ms; threads {ThreadPool.ThreadCount}");
            failed.Should().AllSatisfy(static f => f.Should().BeTrue());
            clock.Elapsed.Should().BeLessThan(Timeout + Slack + Slack);
            probe.Elapsed.Should().BeLessThan(TimeSpan.FromMilliseconds(500));
        }
        finally
        {
            redis.Server.Resume();
        }

        await WaitUntilWorksAsync(store);
    }

    [Fact]
    public async Task StoreStartedWhileRedisIsDown_FailsWithinTimeout_ThenWorksWhenRedisStarts()
    {
        await redis.Server.StopAsync();
        await using var store = NewOwnedStore();

        var (exception, elapsed) = await MeasureFailureAsync(() => store.GetAsync("any-id", Now).AsTask());
        output.WriteLine($"first call with Redis down: {exception.Message} after {elapsed.TotalMilliseconds:F0} ms");
        elapsed.Should().BeLessThan(Timeout + Slack);

        await redis.Server.StartAsync();
        var recovered = await WaitUntilWorksAsync(store);
        output.WriteLine($"recovered {recovered.TotalMilliseconds:F0} ms after Redis started");
    }

    [Fact]
    public async Task Manager_WithRedisStopped_ThrowsStoreExceptionWithinTimeout_ThenServesAgain()
    {
        await using var store = NewOwnedStore();
        await using var manager = new SessionManager(store, Options.Create(new SessionKitOptions { EnableBackgroundCleanup = false }));
        var session = await manager.CreateAsync(new SessionCreateOptions { UserId = "m" });

        await redis.Server.StopAsync();
        var (exception, elapsed) = await MeasureFailureAsync(async () => await manager.GetAsync(session.Id));
        elapsed.Should().BeLessThan(Timeout + Slack);
        exception.StoreName.Should().Be("redis");

        await redis.Server.StartAsync();
        await WaitUntilWorksAsync(store);
        var fresh = await manager.CreateAsync(new SessionCreateOptions { UserId = "m" });
        (await manager.GetAsync(fresh.Id)).IsFound.Should().BeTrue();
    }

    private RedisSessionStore NewOwnedStore() => new(
        Options.Create(new RedisSessionStoreOptions
        {
            Configuration = RedisTestServer.ConfigurationFor(redis.Server),
            KeyPrefix = RedisTestServer.NewPrefix(),
            OperationTimeout = Timeout,
        }),
        _logs);

    private static async Task<Session> CreateAsync(RedisSessionStore store, string? userId)
    {
        var now = Now;
        var session = new Session
        {
            Id = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
            UserId = userId,
            CreatedAt = now,
            LastAccessedAt = now,
            IdleTimeout = TimeSpan.FromMinutes(20),
            Version = 1,
        };
        // Set-up, not the behaviour under test: a new store's first calls connect and load the script within the
        // short timeout these tests use, which a loaded CI machine can miss. Retry until the session exists (a
        // timed-out create may have run, so a retry that finds the id taken checks that it is this session).
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (await store.CreateAsync(session, now) || await store.GetAsync(session.Id, now) is not null)
                {
                    return session;
                }

                throw new InvalidOperationException("The set-up session's id was taken by another session.");
            }
            catch (SessionStoreException) when (attempt < 20)
            {
                await Task.Delay(100);
            }
        }
    }

    private static IEnumerable<(string Operation, Func<Task> Call)> Operations(RedisSessionStore store, string id)
    {
        var now = Now;
        yield return ("get", () => store.GetAsync(id, now).AsTask());
        yield return ("exists", () => store.ExistsAsync(id, now).AsTask());
        yield return ("touch", () => store.TouchAsync(id, now).AsTask());
        yield return ("update", () => store.UpdateAsync(id, new SessionChanges().SetMetadata("k", "v"), now, 1024).AsTask());
        yield return ("create", () => store.CreateAsync(new Session { Id = id + "-new", CreatedAt = now, LastAccessedAt = now, IdleTimeout = TimeSpan.FromMinutes(1), Version = 1 }, now).AsTask());
        yield return ("delete", () => store.DeleteAsync(id, now).AsTask());
        yield return ("query", () => store.QueryAsync(new SessionQuery { UserId = "victim-user" }, now).AsTask());
        yield return ("query", () => store.QueryAsync(new SessionQuery(), now).AsTask());
        yield return ("remove-expired", () => store.RemoveExpiredAsync(now, 10).AsTask());
    }

    private static async Task<(SessionStoreException Exception, TimeSpan Elapsed)> MeasureFailureAsync(Func<Task> call)
    {
        var clock = Stopwatch.StartNew();
        var act = async () => await call();
        var thrown = await act.Should().ThrowAsync<SessionStoreException>();
        return (thrown.Which, clock.Elapsed);
    }

    private static async Task<TimeSpan> WaitUntilWorksAsync(RedisSessionStore store)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await store.ExistsAsync("probe", Now);
                return clock.Elapsed;
            }
            catch (SessionStoreException) when (clock.Elapsed < RecoveryLimit)
            {
                await Task.Delay(50);
            }
        }
    }
}
