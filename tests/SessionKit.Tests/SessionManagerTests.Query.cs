using SessionKit.Security;

namespace SessionKit.Tests;

public sealed partial class SessionManagerTests
{
    [Fact]
    public async Task Query_StripsBindingData()
    {
        var manager = CreateManager();
        var options = new SessionCreateOptions { UserId = "alice" };
        options.Data.SetBinding("credential", "hash");
        var session = await manager.CreateAsync(options);

        var page = await manager.QueryAsync(new SessionQuery { UserId = "alice" });

        page.Sessions.Should().ContainSingle().Which.Binding.Should().BeEmpty();
        (await _memory.GetAsync(session.Id, Start))!.Binding.Should().ContainKey("credential");
    }
}
