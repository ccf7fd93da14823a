using System.Text.Json;
using Microsoft.Extensions.Options;
using SessionKit.Redis;
using StackExchange.Redis;

namespace SessionKit.Tests;

/// <summary>
/// What each operation costs on the wire, read from the server itself (MONITOR and INFO commandstats) on a server
/// this class owns alone. Tests in one class run one after another, so the counts are not disturbed.
/// </summary>
public sealed class RedisCommandCountTests(PrivateRedisTestServer redis) : IClassFixture<PrivateRedisTestServer>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    [Fact]
    public async Task GetAsync_LiveSession_IsExactlyOneHgetallAndNothingElse()
    {
        var store = redis.CreateStore();
        var session = NewSession();
        await store.CreateAsync(session, T0);
        await store.GetAsync(session.Id, T0); // connect and warm up outside the window

        var log = await RedisCommandLog.StartAsync(redis.Server);
        var loaded = await store.GetAsync(session.Id, T0 + TimeSpan.FromSeconds(1));
        var commands = await log.StopAsync(redis.Multiplexer);

        loaded.Should().NotBeNull();
        commands.Should().ContainSingle().Which.Should().Match<MonitoredCommand>(c => c.Name == "HGETALL" && !c.FromScript);
    }

    [Fact]
    public async Task ExistsAsync_LiveSession_IsExactlyOneHmget()
    {
        var store = redis.CreateStore();
        var session = NewSession();
        await store.CreateAsync(session, T0);

        var log = await RedisCommandLog.StartAsync(redis.Server);
        (await store.ExistsAsync(session.Id, T0)).Should().BeTrue();
        var commands = await log.StopAsync(redis.Multiplexer);

        commands.Should().ContainSingle().Which.Name.Should().Be("HMGET");
    }

    [Fact]
    public async Task TouchAsync_LiveSession_IsOneScriptCallAndNoOtherWrite()
    {
        var store = redis.CreateStore();
        var session = NewSession(userId: "touch-user");
        await store.CreateAsync(session, T0);
        await store.TouchAsync(session.Id, T0 + TimeSpan.FromSeconds(1)); // the script is cached from here on

        var log = await RedisCommandLog.StartAsync(redis.Server);
        (await store.TouchAsync(session.Id, T0 + TimeSpan.FromMinutes(3))).Should().BeTrue();
        var commands = await log.StopAsync(redis.Multiplexer);

        commands.Where(static c => !c.FromScript).Should().ContainSingle().Which.Name.Should().Be("EVALSHA");
        commands.Where(static c => c.FromScript).Select(static c => c.Name).Should().Equal("HMGET", "HSET", "PEXPIRE");
    }

    [Fact]
    public async Task UpdateAsync_WithoutUserChange_IsOneScriptCall()
    {
        var store = redis.CreateStore();
        var session = NewSession(userId: "update-user");
        await store.CreateAsync(session, T0);
        await store.UpdateAsync(session.Id, new SessionChanges().SetMetadata("warm", "up"), T0, 1024 * 1024);

        var log = await RedisCommandLog.StartAsync(redis.Server);
        var result = await store.UpdateAsync(session.Id, new SessionChanges().SetMetadata("a", "b").SetState("n", JsonSerializer.SerializeToElement(1)).RemoveMetadata("warm"), T0 + TimeSpan.FromSeconds(1), 1024 * 1024);
        var commands = await log.StopAsync(redis.Multiplexer);

        result.IsUpdated.Should().BeTrue();
        commands.Where(static c => !c.FromScript).Should().ContainSingle().Which.Name.Should().Be("EVALSHA");
        commands.Where(static c => c.FromScript && c.Name == "HSET").Should().ContainSingle("the per-key merge is one HSET, the new version included");
        commands.Where(static c => c.FromScript && c.Name == "HINCRBY").Should().BeEmpty();
        commands.Where(static c => c.FromScript && c.Name == "HDEL").Should().ContainSingle("and one HDEL");
    }

    [Fact]
    public async Task EveryScriptCall_DeclaresKeysOfOneHashTagOnly_SoNoScriptSpansTwoClusterSlots()
    {
        var store = redis.CreateStore();
        var log = await RedisCommandLog.StartAsync(redis.Server);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var session = NewSession(userId: "slot-user-" + (i % 2), id: "{tag" + i + "}-" + Guid.NewGuid());
            ids.Add(session.Id);
            await store.CreateAsync(session, T0);
            await store.TouchAsync(session.Id, T0 + TimeSpan.FromSeconds(1));
            await store.UpdateAsync(session.Id, new SessionChanges().SetMetadata("k", "v").SetUserId("slot-user-moved"), T0 + TimeSpan.FromSeconds(2), 1024);
        }

        await redis.Multiplexer.GetServer(redis.Server.EndPoint).ScriptFlushAsync(); // also exercise the EVAL fallback
        await store.TouchAsync(ids[0], T0 + TimeSpan.FromSeconds(3));
        await store.DeleteAsync(ids[1], T0 + TimeSpan.FromSeconds(3));
        await store.RemoveExpiredAsync(T0 + TimeSpan.FromHours(1), 100);
        var commands = await log.StopAsync(redis.Multiplexer);

        var scripts = commands.Where(static c => !c.FromScript && c.Name is "EVALSHA" or "EVAL").ToList();
        scripts.Should().HaveCountGreaterThan(15);
        scripts.Should().Contain(static c => c.Name == "EVAL", "the flushed script was sent again by text");
        foreach (var script in scripts)
        {
            var keyCount = int.Parse(script.Arguments[1], System.Globalization.CultureInfo.InvariantCulture);
            keyCount.Should().BeInRange(1, 2);
            var keys = script.Arguments.Skip(2).Take(keyCount).ToList();
            if (keyCount == 2)
            {
                // A session hash and its bucket's expiry set: the same hash tag (the first {...} of the key), so one slot.
                HashTag(keys[0]).Should().NotBeNullOrEmpty().And.Be(HashTag(keys[1]), "both keys of a script share the session's bucket tag");
                keys[0].Should().Contain(":s:");
                keys[1].Should().EndWith(":x");
            }
        }

        // Keys touched inside scripts are the declared keys only, whatever the id's own hash tag.
        foreach (var inner in commands.Where(static c => c.FromScript))
        {
            inner.Arguments[0].Should().Match(static k => k.Contains(":s:") || k.EndsWith(":x") || k.Contains(":u:"), "a script touches only its declared keys");
        }

        foreach (var clientCommand in commands.Where(static c => !c.FromScript && c.Name is not ("EVALSHA" or "EVAL" or "SCRIPT")))
        {
            clientCommand.Name.Should().BeOneOf("ZREM", "ZRANGEBYSCORE", "HGETALL", "HMGET", "SCAN", "ZCOUNT");
        }
    }

    private static string? HashTag(string key)
    {
        var open = key.IndexOf('{', StringComparison.Ordinal);
        var close = open < 0 ? -1 : key.IndexOf('}', open + 1);
        return close > open + 1 ? key[(open + 1)..close] : null;
    }

    [Fact]
    public async Task Manager_1000SequentialGetsOfHotSessionInsideOneTouchWindow_WriteAtMostOnce()
    {
        var clock = new ManualTimeProvider(T0);
        var store = redis.CreateStore();
        await using var manager = NewManager(store, clock);
        var session = await manager.CreateAsync(new SessionCreateOptions { UserId = "hot" });
        clock.Advance(TimeSpan.FromMinutes(3)); // past the 2-minute touch threshold: the first get slides once
        await WarmScriptsAsync(store);

        await RedisCommandStats.ResetAsync(redis.Multiplexer);
        for (var i = 0; i < 1000; i++)
        {
            (await manager.GetAsync(session.Id)).IsFound.Should().BeTrue();
        }

        var stats = await RedisCommandStats.ReadAsync(redis.Multiplexer);

        stats.Of("hgetall").Should().Be(1000, "a get is one HGETALL");
        (stats.Of("evalsha") + stats.Of("eval")).Should().Be(1, "one touch for the whole window");
        (stats.Of("zadd") + stats.Of("zrem") + stats.Of("del") + stats.Of("hdel")).Should().Be(0, "a touch writes no index");
        stats.Of("hset").Should().Be(1, "the touch script's only data write");
    }

    [Fact]
    public async Task Manager_1000GetsFrom16CallersOfHotSession_WriteAtMostOncePerCaller()
    {
        var clock = new ManualTimeProvider(T0);
        var store = redis.CreateStore();
        await using var manager = NewManager(store, clock);
        var session = await manager.CreateAsync(new SessionCreateOptions { UserId = "hot" });
        clock.Advance(TimeSpan.FromMinutes(3));
        await WarmScriptsAsync(store);

        await RedisCommandStats.ResetAsync(redis.Multiplexer);
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 1000 / 16; i++)
            {
                (await manager.GetAsync(session.Id)).IsFound.Should().BeTrue();
            }
        })));
        var stats = await RedisCommandStats.ReadAsync(redis.Multiplexer);

        stats.Of("hgetall").Should().Be(16 * (1000 / 16));
        // Gets whose read overtook the first touch find the slide claimed by this node within the window: one write.
        (stats.Of("evalsha") + stats.Of("eval")).Should().Be(1, "concurrent reads of a hot session on one node slide it once per window");
        (stats.Of("zadd") + stats.Of("zrem")).Should().Be(0);
    }

    [Fact]
    public async Task Manager_GetThenUpdate_IsOneHgetallAndOneScriptWithNoReadOfTheWholeHashInside()
    {
        var clock = new ManualTimeProvider(T0);
        var store = redis.CreateStore();
        await using var manager = NewManager(store, clock);
        var session = await manager.CreateAsync(new SessionCreateOptions { UserId = "request" }.WithState("cart", new string('c', 600)));
        await manager.UpdateAsync(session.Id, new SessionChanges().SetMetadata("warm", "up")); // the update script is cached from here on
        clock.Advance(TimeSpan.FromSeconds(1));

        await RedisCommandStats.ResetAsync(redis.Multiplexer);
        var read = await manager.GetAsync(session.Id);
        var result = await manager.UpdateAsync(session.Id, new SessionChanges().SetState("cart", "changed"));
        var stats = await RedisCommandStats.ReadAsync(redis.Multiplexer);

        read.IsFound.Should().BeTrue();
        result.Status.Should().Be(SessionUpdateStatus.Updated);
        stats.Of("hgetall").Should().Be(1, "the request's get is the update's read-first too");
        (stats.Of("evalsha") + stats.Of("eval")).Should().Be(1);
        result.Session!.Version.Should().Be(read.Session!.Version + 1);
        result.Session.GetState<string>("cart").Should().Be("changed");
    }

    [Fact]
    public async Task CreateAsync_WithAUser_IsTheUserIndexScriptThenTheCreateScript_WithTheExpiryEntryInside()
    {
        var store = redis.CreateStore();
        await store.CreateAsync(NewSession(userId: "warm"), T0);

        var log = await RedisCommandLog.StartAsync(redis.Server);
        await store.CreateAsync(NewSession(userId: "creator"), T0);
        var commands = await log.StopAsync(redis.Multiplexer);

        commands.Where(static c => !c.FromScript).Select(static c => c.Name).Should().Equal("EVALSHA", "EVALSHA");
        commands.Where(static c => c.FromScript).Select(static c => c.Name).Should().Equal("ZADD", "PTTL", "PEXPIRE", "HMGET", "EXISTS", "HSET", "PEXPIRE", "ZADD");
    }

    [Fact]
    public async Task CreateAsync_WithoutAUser_IsOneScriptCall()
    {
        var store = redis.CreateStore();
        await store.CreateAsync(NewSession(), T0);

        var log = await RedisCommandLog.StartAsync(redis.Server);
        await store.CreateAsync(NewSession(), T0);
        var commands = await log.StopAsync(redis.Multiplexer);

        commands.Where(static c => !c.FromScript).Should().ContainSingle().Which.Name.Should().Be("EVALSHA");
    }

    [Fact]
    public async Task UpdateAsync_OfTheSnapshotJustRead_ReadsOnlyTheFixedFields()
    {
        var store = redis.CreateStore();
        var session = NewSession(userId: "reader") with { State = new Dictionary<string, JsonElement> { ["big"] = JsonSerializer.SerializeToElement(new string('x', 1000)), ["n"] = JsonSerializer.SerializeToElement(0) } };
        await store.CreateAsync(session, T0);
        await store.UpdateAsync(session.Id, new SessionChanges().SetMetadata("warm", "up"), T0, 1024 * 1024);
        var read = await store.GetAsync(session.Id, T0);

        var log = await RedisCommandLog.StartAsync(redis.Server);
        var result = await store.UpdateAsync(session.Id, new SessionChanges().SetState("n", JsonSerializer.SerializeToElement(1)), T0 + TimeSpan.FromSeconds(1), 1024 * 1024);
        var commands = await log.StopAsync(redis.Multiplexer);

        result.IsUpdated.Should().BeTrue();
        commands.Where(static c => !c.FromScript).Should().ContainSingle().Which.Name.Should().Be("EVALSHA");
        commands.Where(static c => c.FromScript).Select(static c => c.Name).Should().Equal(["HMGET", "HSET", "PEXPIRE"], "no read of the whole hash, before or after, and the size comes from the confirmed snapshot");
        var stored = await store.GetAsync(session.Id, T0 + TimeSpan.FromSeconds(1));
        result.Session!.Should().BeEquivalentTo(stored, o => o.Excluding(static s => s!.State), "the snapshot built from the one read and the changes is the stored one");
        result.Session!.State.ToDictionary(static e => e.Key, static e => e.Value.GetRawText()).Should().BeEquivalentTo(stored!.State.ToDictionary(static e => e.Key, static e => e.Value.GetRawText()));
        result.Session!.Version.Should().Be(read!.Version + 1);
    }

    [Fact]
    public async Task UpdateAsync_WithoutAKnownSnapshot_ReadsTheChangedValuesLengthNotTheWholeHash()
    {
        var prefix = RedisTestServer.NewPrefix();
        var writer = redis.CreateStore(o => o.KeyPrefix = prefix);
        var session = NewSession() with { State = new Dictionary<string, JsonElement> { ["big"] = JsonSerializer.SerializeToElement(new string('x', 1000)) } };
        await writer.CreateAsync(session, T0);
        await writer.UpdateAsync(session.Id, new SessionChanges().SetMetadata("warm", "up"), T0, 1024 * 1024);
        var stranger = redis.CreateStore(o => o.KeyPrefix = prefix); // has read nothing

        var log = await RedisCommandLog.StartAsync(redis.Server);
        var result = await stranger.UpdateAsync(session.Id, new SessionChanges().SetState("n", JsonSerializer.SerializeToElement(1)), T0 + TimeSpan.FromSeconds(1), 1024 * 1024);
        var commands = await log.StopAsync(redis.Multiplexer);

        result.IsUpdated.Should().BeTrue();
        commands.Where(static c => c.FromScript).Select(static c => c.Name).Should().Equal(["HMGET", "HSTRLEN", "HSET", "PEXPIRE", "HGETALL"], "the size is kept incrementally; only the unknown caller gets the new hash back");
    }

    /// <summary>Makes sure the touch script is cached (another test flushes the script cache), so counts show steady state.</summary>
    private static async Task WarmScriptsAsync(RedisSessionStore store) => await store.TouchAsync("warm-" + Guid.NewGuid(), T0);

    private static SessionManager NewManager(RedisSessionStore store, TimeProvider clock) =>
        new(store, Options.Create(new SessionKitOptions { EnableBackgroundCleanup = false }), clock, loggerFactory: null);

    private static Session NewSession(string? userId = null, string? id = null) => new()
    {
        Id = id ?? Guid.NewGuid().ToString("N"),
        UserId = userId,
        CreatedAt = T0,
        LastAccessedAt = T0,
        IdleTimeout = TimeSpan.FromMinutes(20),
        Version = 1,
        Metadata = new Dictionary<string, string> { ["tenant"] = "t1" },
    };
}
