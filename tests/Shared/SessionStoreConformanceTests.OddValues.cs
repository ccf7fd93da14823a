using System.Text.Json;
using static SessionKit.Tests.SessionAssertions;

namespace SessionKit.Tests;

public abstract partial class SessionStoreConformanceTests
{
    [Theory]
    [MemberData(nameof(OddIdCases), MemberType = typeof(SessionStoreConformanceTests))]
    public async Task OddId_CreateGetUpdateTouchDelete_RoundTripsAndLeavesNeighboursAlone(string idCase)
    {
        var id = _oddIds[idCase];
        var neighbour = await CreateLiveAsync(NewSession(userId: "odd-owner"));
        var session = NewRichSession() with { Id = id, UserId = "odd-owner" };

        (await Store.CreateAsync(session, T0)).Should().BeTrue();
        (await Store.GetAsync(id, T0 + Ms(1))).ShouldEqualSnapshot(session);
        (await Store.ExistsAsync(id, T0 + Ms(1))).Should().BeTrue();
        var updated = await UpdateOrFailAsync(id, new SessionChanges().SetState("odd", Json(idCase)), T0 + Ms(2));
        updated.Id.Should().Be(id);
        (await Store.TouchAsync(id, T0 + Ms(3))).Should().BeTrue();
        (await Store.GetAsync(id, T0 + Ms(3))).ShouldEqualSnapshot(updated with { LastAccessedAt = T0 + Ms(3) });
        (await QueryIdsAsync(new SessionQuery { UserId = "odd-owner" }, T0 + Ms(3))).Should().BeEquivalentTo(new[] { id, neighbour.Id });
        (await Store.DeleteAsync(id, T0 + Ms(4))).Should().NotBeNull();

        (await Store.GetAsync(id, T0 + Ms(4))).Should().BeNull();
        (await Store.GetAsync(neighbour.Id, T0 + Ms(4))).ShouldEqualSnapshot(neighbour, "deleting an odd id touches no other session");
        (await QueryIdsAsync(new SessionQuery { UserId = "odd-owner" }, T0 + Ms(4))).Should().Equal(neighbour.Id);
    }

    [Fact]
    public async Task OddIds_DifferingOnlyByCaseOrTrailingSpace_AreDistinctSessions()
    {
        var ids = new[] { "Session-Id", "session-id", "Session-Id ", "Session-Id\t" };
        foreach (var id in ids)
        {
            (await Store.CreateAsync(NewSession(id, userId: "owner-of:" + id), T0)).Should().BeTrue("ids compare ordinally, so {0} is new", JsonSerializer.Serialize(id));
        }

        (await Store.DeleteAsync("Session-Id", T0 + Ms(1))).Should().NotBeNull();

        (await Store.GetAsync("Session-Id", T0 + Ms(1))).Should().BeNull();
        foreach (var id in ids.Skip(1))
        {
            (await Store.GetAsync(id, T0 + Ms(1)))!.UserId.Should().Be("owner-of:" + id);
        }
    }

    [Fact]
    public async Task HostileStateValue_ThroughCreateAndUpdate_RoundTripsExactly()
    {
        var hostile = HostileText();
        var element = Json(hostile);
        var session = await CreateLiveAsync(NewSession() with { State = new Dictionary<string, JsonElement> { ["created"] = element } });

        await UpdateOrFailAsync(session.Id, new SessionChanges().SetState("updated", element).SetState("nested", Json(new { text = hostile, list = new[] { hostile } })), T0 + Ms(1));

        var loaded = await GetLiveAsync(session.Id, T0 + Ms(1));
        foreach (var key in new[] { "created", "updated" })
        {
            loaded.StateText(key).Should().Be(element.GetRawText());
            loaded.State[key].GetString().Should().Be(hostile);
        }

        loaded.State["nested"].GetProperty("text").GetString().Should().Be(hostile);
        loaded.State["nested"].GetProperty("list")[0].GetString().Should().Be(hostile);
    }

    [Fact]
    public async Task HostileMetadataAndBinding_ThroughCreateAndUpdate_RoundTripExactly()
    {
        var hostile = HostileText();
        var hostileKey = "k:{x}*?[ ]é😀\"\\";
        var session = await CreateLiveAsync(NewSession(userId: "u:{1}*", kind: "k\"ind") with
        {
            Metadata = new Dictionary<string, string> { [hostileKey] = hostile, ["plain"] = string.Empty },
            Binding = new Dictionary<string, string> { [hostileKey] = hostile },
        });
        (await Store.GetAsync(session.Id, T0)).ShouldEqualSnapshot(session);

        var updated = await UpdateOrFailAsync(session.Id, new SessionChanges().SetMetadata(hostileKey + "2", hostile).SetBinding(hostileKey + "2", hostile), T0 + Ms(1));

        (await Store.GetAsync(session.Id, T0 + Ms(1))).ShouldEqualSnapshot(updated);
        updated.Metadata[hostileKey + "2"].Should().Be(hostile);
        updated.Binding[hostileKey + "2"].Should().Be(hostile);
    }

    [Fact]
    public async Task LargeStateValue_ThroughCreateAndUpdate_RoundTripsExactly()
    {
        var large = string.Concat(Enumerable.Repeat("0123456789abcdef-é-😀-", 12_000)); // ~280 KB of UTF-8
        var session = await CreateLiveAsync(NewSession() with { State = new Dictionary<string, JsonElement> { ["big"] = Json(large) } });

        await UpdateOrFailAsync(session.Id, new SessionChanges().SetState("big2", Json(large)), T0 + Ms(1));

        var loaded = await Store.GetAsync(session.Id, T0 + Ms(1));
        loaded!.State["big"].GetString().Should().Be(large);
        loaded.State["big2"].GetString().Should().Be(large);
    }

    [Fact]
    public async Task StateValuesOfEveryJsonKind_RoundTripByRawText()
    {
        var values = new Dictionary<string, JsonElement>
        {
            ["null"] = Json<object?>(null),
            ["true"] = Json(true),
            ["false"] = Json(false),
            ["int"] = Json(-42),
            ["beyond-double"] = Json(9007199254740993L),
            ["decimal"] = Json(0.1m),
            ["huge"] = Json(1e300),
            ["empty-string"] = Json(string.Empty),
            ["empty-object"] = Json(new { }),
            ["empty-array"] = Json(Array.Empty<int>()),
            ["nested"] = Json(new { a = new object?[] { 1, "two", null, new { b = true } }, c = new { d = new { e = "f" } } }),
        };
        var session = await CreateLiveAsync(NewSession() with { State = values });

        var changes = new SessionChanges();
        foreach (var (key, value) in values)
        {
            changes.SetState("u-" + key, value);
        }

        var updated = await UpdateOrFailAsync(session.Id, changes, T0 + Ms(1));

        var loaded = await GetLiveAsync(session.Id, T0 + Ms(1));
        loaded.ShouldEqualSnapshot(updated);
        foreach (var (key, value) in values)
        {
            loaded.StateText(key).Should().Be(value.GetRawText(), "state {0} keeps its exact JSON", key);
            loaded.StateText("u-" + key).Should().Be(value.GetRawText(), "state u-{0} keeps its exact JSON", key);
        }
    }

    private static string HostileText() =>
        "nul:\0 quote:\" apostrophe:' backslash:\\ slash:/ newline:\n cr:\r tab:\t ctl:\u001f\u007f " +
        "html:<script>&amp;</script> unicode:é中文 emoji:😀👍🏽 rtl:\u202e bom:\ufeff ls:\u2028 json:{\"a\":[1]} lua:%s]]";
}
