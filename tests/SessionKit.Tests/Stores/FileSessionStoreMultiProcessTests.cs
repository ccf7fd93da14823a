using System.Globalization;
using SessionKit.Stores;
using Xunit.Abstractions;

namespace SessionKit.Tests;

/// <summary>
/// The store contract across processes: child processes (tests/SessionKit.FileStore.Child) and this process share one
/// directory and race on the same sessions. Each child waits for a "go" file so the processes really overlap.
/// </summary>
public sealed class FileSessionStoreMultiProcessTests(ITestOutputHelper output) : IDisposable
{
    private const long MaxState = 1024 * 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly string _parent = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "sessionkit-mp-" + Guid.NewGuid().ToString("N"))).FullName;

    private string Root => Path.Combine(_parent, "store");

    private string GoFile => Path.Combine(_parent, "go");

    public void Dispose() => Directory.Delete(_parent, recursive: true);

    [Fact]
    public async Task UpdateAsync_TwoProcessesAndThisOneSettingDisjointKeysOfTheSameSessions_LoseNothing()
    {
        const int Sessions = 8;
        const int Rounds = 25;
        var store = NewStore();
        for (var s = 0; s < Sessions; s++)
        {
            (await store.CreateAsync(NewSession($"m-{s}"), DateTimeOffset.UtcNow)).Should().BeTrue();
        }

        await using var a = FileStoreChildProcess.Start("merge", Root, "a", Rounds.ToString(CultureInfo.InvariantCulture), Sessions.ToString(CultureInfo.InvariantCulture), GoFile);
        await using var b = FileStoreChildProcess.Start("merge", Root, "b", Rounds.ToString(CultureInfo.InvariantCulture), Sessions.ToString(CultureInfo.InvariantCulture), GoFile);
        await GoAsync(a, b);
        for (var round = 0; round < Rounds; round++)
        {
            for (var s = 0; s < Sessions; s++)
            {
                (await store.UpdateAsync($"m-{s}", new SessionChanges().SetMetadata($"p-{round}", "p"), DateTimeOffset.UtcNow, MaxState)).IsUpdated.Should().BeTrue();
            }
        }

        (await a.WaitForExitAsync(Timeout)).Should().Be(0, a.StandardError);
        (await b.WaitForExitAsync(Timeout)).Should().Be(0, b.StandardError);

        for (var s = 0; s < Sessions; s++)
        {
            var session = await store.GetAsync($"m-{s}", DateTimeOffset.UtcNow);
            session!.Metadata.Should().HaveCount(3 * Rounds, "no process overwrote another's keys");
            session.Version.Should().Be(1 + (3 * Rounds), "every update was applied exactly once");
            for (var round = 0; round < Rounds; round++)
            {
                session.Metadata.Should().Contain($"a-{round}", "a").And.Contain($"b-{round}", "b").And.Contain($"p-{round}", "p");
            }
        }
    }

    [Fact]
    public async Task CreateAsync_TwoProcessesRacingForTheSameIds_ExactlyOneWinsEachAndItsSessionIsStored()
    {
        const int Ids = 150;
        await using var a = FileStoreChildProcess.Start("race", Root, "a", Ids.ToString(CultureInfo.InvariantCulture), GoFile);
        await using var b = FileStoreChildProcess.Start("race", Root, "b", Ids.ToString(CultureInfo.InvariantCulture), GoFile);
        await GoAsync(a, b);
        (await a.WaitForExitAsync(Timeout)).Should().Be(0, a.StandardError);
        (await b.WaitForExitAsync(Timeout)).Should().Be(0, b.StandardError);

        var winsA = Wins(a);
        var winsB = Wins(b);
        var store = NewStore();
        output.WriteLine($"a won {winsA.Count}, b won {winsB.Count}");

        winsA.Intersect(winsB).Should().BeEmpty("two processes never both create one id");
        winsA.Union(winsB).Should().HaveCount(Ids, "every id was created by one of them");
        foreach (var id in winsA.Concat(winsB))
        {
            var session = await store.GetAsync(id, DateTimeOffset.UtcNow);
            session!.Metadata["winner"].Should().Be(winsA.Contains(id) ? "a" : "b", "the stored session is the winner's");
        }
    }

    [Fact]
    public async Task UpdateAsync_TwoProcessesIncrementingByCompareAndSet_CountEveryIncrementOnce()
    {
        const int Increments = 60;
        var store = NewStore();
        await store.CreateAsync(NewSession("counter"), DateTimeOffset.UtcNow);
        await using var a = FileStoreChildProcess.Start("cas", Root, "counter", Increments.ToString(CultureInfo.InvariantCulture), GoFile);
        await using var b = FileStoreChildProcess.Start("cas", Root, "counter", Increments.ToString(CultureInfo.InvariantCulture), GoFile);
        await GoAsync(a, b);
        (await a.WaitForExitAsync(Timeout)).Should().Be(0, a.StandardError);
        (await b.WaitForExitAsync(Timeout)).Should().Be(0, b.StandardError);

        var session = await store.GetAsync("counter", DateTimeOffset.UtcNow);
        output.WriteLine($"conflicts: {a.Lines[^1]} / {b.Lines[^1]}");

        session!.GetState<int>("counter").Should().Be(2 * Increments);
        session.Version.Should().Be(1 + (2 * Increments));
    }

    [Fact]
    public async Task DeleteAsync_WhileAnotherProcessKeepsUpdating_SessionStaysDeleted()
    {
        var store = NewStore();
        await store.CreateAsync(NewSession("doomed", userId: "owner"), DateTimeOffset.UtcNow);
        await using var child = FileStoreChildProcess.Start("update-until-gone", Root, "doomed");
        await child.WaitForLineAsync(static l => l == "U 20", Timeout);

        (await store.DeleteAsync("doomed", DateTimeOffset.UtcNow)).Should().NotBeNull();
        (await child.WaitForExitAsync(Timeout)).Should().Be(0, child.StandardError);

        child.Lines[^1].Should().StartWith("gone ");
        (await store.GetAsync("doomed", DateTimeOffset.UtcNow)).Should().BeNull("a late update never resurrects a deleted session");
        (await store.QueryAsync(new SessionQuery { UserId = "owner" }, DateTimeOffset.UtcNow)).Sessions.Should().BeEmpty();
        Directory.EnumerateFiles(Root, "*.json", SearchOption.AllDirectories).Should().BeEmpty();
    }

    [Fact]
    public async Task SweepAsync_WhileAnotherProcessTouches_NeverRemovesASessionItTouched()
    {
        const int Sessions = 200;
        var store = NewStore();
        var created = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        for (var i = 0; i < Sessions; i++)
        {
            await store.CreateAsync(NewSession($"t-{i}", at: created) with { IdleTimeout = TimeSpan.FromSeconds(2) }, created);
        }

        // Logical time: untouched sessions expire at +2 s; the child touches at +1 s (so until +3 s); the sweep runs at +2.5 s.
        var touchAt = created + TimeSpan.FromSeconds(1);
        var sweepAt = created + TimeSpan.FromSeconds(2.5);
        await using var child = FileStoreChildProcess.Start("touch-all", Root, Sessions.ToString(CultureInfo.InvariantCulture), touchAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), GoFile);
        await GoAsync(child);
        var removed = new List<Session>();
        while (!child.Lines.Contains("done"))
        {
            removed.AddRange((await store.SweepAsync(sweepAt, 5)).RemovedSessions);
        }

        (await child.WaitForExitAsync(Timeout)).Should().Be(0, child.StandardError);
        removed.AddRange((await store.SweepAsync(sweepAt, 1000)).RemovedSessions);

        var touched = child.Lines.Where(static l => l.StartsWith("T ", StringComparison.Ordinal) && l.EndsWith(" true", StringComparison.Ordinal))
            .Select(static l => l.Split(' ')[1]).ToHashSet(StringComparer.Ordinal);
        var removedIds = removed.Select(static s => s.Id).ToHashSet(StringComparer.Ordinal);
        output.WriteLine($"touched {touched.Count}, swept {removedIds.Count}");

        removedIds.Intersect(touched).Should().BeEmpty("a session touched (and so live at the sweep's now) is never swept");
        (touched.Count + removedIds.Count).Should().Be(Sessions, "every session was either touched in time or swept");
        foreach (var id in touched)
        {
            (await store.ExistsAsync(id, sweepAt)).Should().BeTrue();
        }
    }

    [Fact]
    public async Task Constructor_InAProcessWhereFileLocksDoNotExclude_RefusesToOpen()
    {
        _ = NewStore();

        await using var normal = FileStoreChildProcess.Start("open", Root);
        await using var unlocked = FileStoreChildProcess.Start(new Dictionary<string, string> { ["DOTNET_SYSTEM_IO_DISABLEFILELOCKING"] = "1" }, "open", Root);
        (await normal.WaitForExitAsync(Timeout)).Should().Be(0, normal.StandardError);
        (await unlocked.WaitForExitAsync(Timeout)).Should().Be(0, unlocked.StandardError);

        normal.Lines.Should().Equal("opened");
        unlocked.Lines.Should().ContainSingle().Which.Should().StartWith("refused: ").And.Contain("exclusive file locks");
    }

    private FileSessionStore NewStore() => new(new FileSessionStoreOptions { Directory = Root });

    private static Session NewSession(string id, string? userId = null, DateTimeOffset? at = null)
    {
        var now = at ?? DateTimeOffset.UtcNow;
        return new Session { Id = id, UserId = userId, CreatedAt = now, LastAccessedAt = now, IdleTimeout = TimeSpan.FromHours(1), Version = 1 };
    }

    private async Task GoAsync(params FileStoreChildProcess[] children)
    {
        foreach (var child in children)
        {
            await child.WaitForLineAsync(static l => l == "ready", Timeout);
        }

        await File.WriteAllBytesAsync(GoFile, []);
    }

    private static HashSet<string> Wins(FileStoreChildProcess child) =>
        child.Lines.Where(static l => l.StartsWith("W ", StringComparison.Ordinal)).Select(static l => l[2..]).ToHashSet(StringComparer.Ordinal);
}
