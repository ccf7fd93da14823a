using Microsoft.Extensions.Options;
using SessionKit.Redis;
using SessionKit.Security;
using StackExchange.Redis;

namespace SessionKit.Tests;

/// <summary>Encryption at rest on <see cref="RedisSessionStore"/>: a manager round trip, and no plaintext value in any hash.</summary>
public sealed class RedisEncryptionAtRestTests(RedisTestServer redis) : IClassFixture<RedisTestServer>, IAsyncLifetime
{
    private const string Secret = "4111-1111-1111-1111";
    private readonly string _prefix = RedisTestServer.NewPrefix();
    private readonly ManagerHarness _harness = new(DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
    private RedisSessionStore _store = null!;
    private SessionManager _manager = null!;

    public Task InitializeAsync()
    {
        _store = redis.CreateStore(o => o.KeyPrefix = _prefix);
        _manager = _harness.Create(_store, static o =>
        {
            o.EnableBackgroundCleanup = false;
            o.Encryption = new SessionEncryptionOptions { KeyId = "r1", Key = Enumerable.Repeat((byte)0x5A, 32).ToArray() };
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _harness.DisposeAsync();
        await _store.DisposeAsync();
        await redis.DeletePrefixAsync(_prefix);
    }

    [Fact]
    public async Task Manager_RedisStore_RoundTripsMetadataAndState()
    {
        var created = await _manager.CreateAsync(new SessionCreateOptions { UserId = "u1" }.WithMetadata("card", Secret).WithState("cart", new[] { Secret }));
        await _manager.UpdateAsync(created.Id, new SessionChanges().SetMetadata("tenant", "t").SetState("n", 5));

        var read = await _manager.GetAsync(created.Id);
        var listed = await _manager.QueryAsync(new SessionQuery { UserId = "u1" });

        read.Session!.Metadata.Should().Equal(new Dictionary<string, string> { ["card"] = Secret, ["tenant"] = "t" });
        read.Session.GetState<string[]>("cart").Should().Equal(Secret);
        read.Session.GetState<int>("n").Should().Be(5);
        listed.Sessions.Should().ContainSingle().Which.Metadata["card"].Should().Be(Secret);
    }

    [Fact]
    public async Task Manager_RedisStore_HashesHoldOneSealedFieldPerValueAndNoPlaintext()
    {
        var created = await _manager.CreateAsync(new SessionCreateOptions().WithMetadata("card", Secret).WithState("cart", new[] { Secret }));
        await _manager.UpdateAsync(created.Id, new SessionChanges().SetMetadata("card2", Secret));

        var fields = new List<HashEntry>();
        var reply = (RedisResult[])(await Db.ExecuteAsync("SCAN", "0", "MATCH", _prefix + "*", "COUNT", "10000"))!;
        reply[0].ToString().Should().Be("0", "one SCAN call covers this test's few keys");
        foreach (var key in (RedisKey[])reply[1]!)
        {
            if (await Db.KeyTypeAsync(key) == RedisType.Hash)
            {
                fields.AddRange(await Db.HashGetAllAsync(key));
            }
        }

        var values = fields.ToDictionary(static f => (string)f.Name!, static f => (string)f.Value!);
        values.Should().ContainKeys("m:card", "m:card2", "s:cart");
        values["m:card"].Should().StartWith("skenc1:r1:");
        values["m:card2"].Should().StartWith("skenc1:r1:");
        values["s:cart"].Should().StartWith("\"skenc1:r1:");
        values.Values.Should().AllSatisfy(v => v.Should().NotContain(Secret));
    }

    private IDatabase Db => redis.Multiplexer.GetDatabase();
}
