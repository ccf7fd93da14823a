using static SessionKit.Tests.SessionAssertions;

namespace SessionKit.Tests;

// Lone UTF-16 surrogates have no UTF-8 form (Redis, JSON files): a store that encoded them would replace them
// silently and merge distinct keys ("\uD800" and "\uDBFF" becoming one). Every store refuses them alike, with
// ArgumentException, and writes nothing.
public abstract partial class SessionStoreConformanceTests
{
    public static TheoryData<string> LoneSurrogatePlaces => new() { "metadata key", "metadata value", "state key", "kind", "user id", "binding value" };

    [Theory]
    [MemberData(nameof(LoneSurrogatePlaces), MemberType = typeof(SessionStoreConformanceTests))]
    public async Task LoneSurrogate_InCreate_IsRefusedAndNothingIsWritten(string place)
    {
        var session = NewSession();
        session = place switch
        {
            "metadata key" => session with { Metadata = new Dictionary<string, string> { ["\uD800"] = "a", ["\uDBFF"] = "b" } },
            "metadata value" => session with { Metadata = new Dictionary<string, string> { ["k"] = "x\uD800y" } },
            "state key" => session with { State = new Dictionary<string, System.Text.Json.JsonElement> { ["\uD800"] = Json(1), ["\uDBFF"] = Json(2) } },
            "kind" => session with { Kind = "k\uDC00" },
            "user id" => session with { UserId = "u\uD800" },
            _ => session with { Binding = new Dictionary<string, string> { ["g"] = "\uDFFF" } },
        };

        var create = async () => await Store.CreateAsync(session, T0);

        await create.Should().ThrowAsync<ArgumentException>().WithMessage("*lone surrogate*");
        (await Store.GetAsync(session.Id, T0 + Ms(1))).Should().BeNull("a refused create writes nothing");
    }

    [Theory]
    [InlineData("metadata key")]
    [InlineData("metadata value")]
    [InlineData("state key")]
    [InlineData("kind")]
    public async Task LoneSurrogate_InUpdate_IsRefusedAndNothingIsWritten(string place)
    {
        var session = await CreateLiveAsync(NewSession());
        var changes = place switch
        {
            "metadata key" => new SessionChanges().SetMetadata("\uD800", "a").SetMetadata("\uDBFF", "b"),
            "metadata value" => new SessionChanges().SetMetadata("k", "x\uD800y"),
            "state key" => new SessionChanges().SetState("\uD800", Json(1)).SetState("\uDBFF", Json(2)),
            _ => new SessionChanges().SetKind("k\uDC00"),
        };

        var update = async () => await Store.UpdateAsync(session.Id, changes, T0 + Ms(1), DefaultMaxStateBytes);

        await update.Should().ThrowAsync<ArgumentException>().WithMessage("*lone surrogate*");
        (await Store.GetAsync(session.Id, T0 + Ms(2))).ShouldEqualSnapshot(session, "a refused update writes nothing");
    }
}
