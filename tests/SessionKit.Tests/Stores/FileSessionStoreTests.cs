using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionKit.Stores;
using Xunit.Abstractions;

namespace SessionKit.Tests;

/// <summary>Behaviour of <see cref="FileSessionStore"/> beyond the conformance suite: layout, security, bad files, sweep, restart and crashes.</summary>
public sealed class FileSessionStoreTests(ITestOutputHelper output) : IDisposable
{
    private const long MaxState = 1024 * 1024;
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(20);

    private readonly string _parent = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "sessionkit-file-" + Guid.NewGuid().ToString("N"))).FullName;
    private readonly DateTimeOffset _t0 = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    private string Root => Path.Combine(_parent, "store");

    public void Dispose() => Directory.Delete(_parent, recursive: true);

    // ───────────────────────────── Options and DI ─────────────────────────────

    [Theory]
    [InlineData("", "Directory is required")]
    [InlineData("   ", "Directory is required")]
    [InlineData("relative/sessions", "fully qualified")]
    [InlineData("../sessions", "fully qualified")]
    public void Constructor_MissingOrRelativeDirectory_ThrowsNamingTheOption(string directory, string expected)
    {
        var act = () => new FileSessionStore(new FileSessionStoreOptions { Directory = directory });

        act.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("FileSessionStoreOptions.Directory").And.Contain(expected);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Constructor_NonPositiveSweepBatchSize_ThrowsNamingTheOption(int batchSize)
    {
        var act = () => new FileSessionStore(new FileSessionStoreOptions { Directory = Root, SweepBatchSize = batchSize });

        act.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("FileSessionStoreOptions.SweepBatchSize");
    }

    [Fact]
    public void Constructor_NonPositiveLockTimeout_ThrowsNamingTheOption()
    {
        var act = () => new FileSessionStore(new FileSessionStoreOptions { Directory = Root, LockTimeout = TimeSpan.Zero });

        act.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("FileSessionStoreOptions.LockTimeout");
    }

    [Fact]
    public void Constructor_DirectoryOfAnotherLayout_ThrowsStoreException()
    {
        Directory.CreateDirectory(Root);
        File.WriteAllText(Path.Combine(Root, ".layout"), "sessionkit-file-store 2\n");

        var act = () => new FileSessionStore(new FileSessionStoreOptions { Directory = Root });

        act.Should().Throw<SessionStoreException>().Which.Message.Should().Contain("layout");
    }

    [Fact]
    public async Task UseFileStore_AfterAddSessions_ReplacesTheStoreWithAFileStoreInThatDirectory()
    {
        var services = new ServiceCollection();
        services.AddSessions().UseInMemoryStore().UseFileStore(o => o.Directory = Root);
        await using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<ISessionStore>();
        await store.CreateAsync(NewSession("di"), _t0);

        store.Should().BeOfType<FileSessionStore>();
        services.Count(static d => d.ServiceType == typeof(ISessionStore)).Should().Be(1);
        Directory.EnumerateFiles(Root, "*.json", SearchOption.AllDirectories).Should().ContainSingle();
    }

    [Fact]
    public async Task UseFileStore_FromConfiguration_BindsTheOptions()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Directory"] = Root, ["SweepBatchSize"] = "7", ["FlushToDisk"] = "false" })
            .Build();
        var services = new ServiceCollection();
        services.AddSessions().UseFileStore(configuration);
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<FileSessionStoreOptions>>().Value;

        options.Directory.Should().Be(Root);
        options.SweepBatchSize.Should().Be(7);
        options.FlushToDisk.Should().BeFalse();
        provider.GetRequiredService<ISessionStore>().Should().BeOfType<FileSessionStore>();
    }

    [Fact]
    public async Task UseFileStore_InvalidOptions_FailValidationAtStart()
    {
        var services = new ServiceCollection();
        services.AddSessions().UseFileStore(o => o.SweepBatchSize = 0);
        await using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("FileSessionStoreOptions.Directory").And.Contain("SweepBatchSize");
    }

    // ───────────────────────────── Layout, permissions, hostile ids ─────────────────────────────

    [Fact]
    public async Task CreateAsync_Session_IsOneJsonFileNamedByTheIdsHashInItsShard()
    {
        var store = NewStore();
        var id = "layout-" + Guid.NewGuid();

        await store.CreateAsync(NewSession(id), _t0);

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.Unicode.GetBytes(id)));
        var files = SessionFiles();
        files.Should().Equal(Path.Combine(Root, hash[..3], hash + ".json"));
        files.Concat(Directory.EnumerateFileSystemEntries(Root, "*", SearchOption.AllDirectories)).Should().NotContain(p => p.Contains(id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task CreateAsync_OnUnix_DirectoriesAre0700AndFilesAre0600()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix permission bits do not exist there.
        }

        var store = NewStore();
        await store.CreateAsync(NewSession("perm", userId: "u", kind: "k"), _t0);
        await store.UpdateAsync("perm", new SessionChanges().SetState("x", 1), _t0, MaxState);

        var entries = Directory.EnumerateFileSystemEntries(Root, "*", SearchOption.AllDirectories).Append(Root).ToList();
        entries.Should().Contain(p => p.EndsWith(".json", StringComparison.Ordinal)).And.Contain(p => p.EndsWith(".lock", StringComparison.Ordinal));
        foreach (var entry in entries)
        {
            var expected = Directory.Exists(entry)
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                : UnixFileMode.UserRead | UnixFileMode.UserWrite;
            File.GetUnixFileMode(entry).Should().Be(expected, entry);
        }
    }

    [Fact]
    public void Constructor_ExistingWorldReadableDirectory_IsRestrictedTo0700()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix permission bits do not exist there.
        }

        Directory.CreateDirectory(Root);
        File.SetUnixFileMode(Root, (UnixFileMode)0b111_101_101);

        _ = NewStore();

        File.GetUnixFileMode(Root).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public static TheoryData<string, string> HostileIds => new()
    {
        { "parent-traversal", "../x" },
        { "deep-traversal", "../../../../../../tmp/escaped" },
        { "absolute-unix", "/etc/passwd" },
        { "absolute-windows", @"C:\Windows\win.ini" },
        { "nul", "a\0b" },
        { "10kb", new string('x', 10 * 1024) },
        { "non-ascii", "ünïcødé-会话-🔑" },
        { "dots", ".." },
    };

    [Theory]
    [MemberData(nameof(HostileIds))]
    public async Task HostileId_RoundTripsAndEveryFileStaysInsideTheRoot(string name, string id)
    {
        var store = NewStore();
        var sentinel = Directory.CreateDirectory(Path.Combine(_parent, "outside"));

        (await store.CreateAsync(NewSession(id, userId: id, kind: id), _t0)).Should().BeTrue(name);
        (await store.UpdateAsync(id, new SessionChanges().SetMetadata("m", "v"), _t0, MaxState)).IsUpdated.Should().BeTrue();
        var loaded = await store.GetAsync(id, _t0);
        var byUser = await store.QueryAsync(new SessionQuery { UserId = id }, _t0);

        loaded!.Id.Should().Be(id);
        loaded.Metadata["m"].Should().Be("v");
        byUser.Sessions.Select(static s => s.Id).Should().Equal(id);
        Directory.EnumerateFileSystemEntries(_parent).Should().BeEquivalentTo([Root, sentinel.FullName]);
        sentinel.EnumerateFileSystemInfos().Should().BeEmpty();
        (await store.DeleteAsync(id, _t0)).Should().NotBeNull();
        SessionFiles().Should().BeEmpty();
    }

    [Fact]
    public async Task CreateAsync_IdWithUnpairedSurrogate_IsRejectedBecauseJsonCannotStoreIt()
    {
        var store = NewStore();

        var act = async () => await store.CreateAsync(NewSession("bad\uD800id"), _t0);

        await act.Should().ThrowAsync<ArgumentException>().WithMessage("*unpaired surrogate*");
        (await store.GetAsync("bad\uD800id", _t0)).Should().BeNull();
        (await store.DeleteAsync("bad\uD800id", _t0)).Should().BeNull();
        (await store.UpdateAsync("bad\uD800id", new SessionChanges().SetMetadata("a", "b"), _t0, MaxState)).Status.Should().Be(SessionUpdateStatus.NotFound);
        SessionFiles().Should().BeEmpty();
    }

    [Fact]
    public async Task CreateAsync_UserIdWithUnpairedSurrogate_IsRefusedInsteadOfStoredAsU_FFFD()
    {
        var store = NewStore();

        var create = async () => await store.CreateAsync(NewSession("s1", userId: "user\uD800"), _t0);

        await create.Should().ThrowAsync<ArgumentException>("System.Text.Json would store the surrogate as U+FFFD, a different user");
        SessionFiles().Should().BeEmpty();
    }

    [Fact]
    public async Task CreateAsync_IdsDifferingOnlyInCaseOrNormalization_AreDistinctSessions()
    {
        var store = NewStore();

        (await store.CreateAsync(NewSession("caf\u00e9"), _t0)).Should().BeTrue();
        (await store.CreateAsync(NewSession("cafe\u0301"), _t0)).Should().BeTrue();
        (await store.CreateAsync(NewSession("CAF\u00c9"), _t0)).Should().BeTrue();

        SessionFiles().Should().HaveCount(3);
        (await store.GetAsync("cafe\u0301", _t0))!.Id.Should().Be("cafe\u0301");
    }

    // ───────────────────────────── Unreadable files ─────────────────────────────

    public static TheoryData<string> CorruptionKinds => ["garbage", "truncated", "empty", "foreign-json", "future-format", "misplaced", "json-null"];

    [Theory]
    [MemberData(nameof(CorruptionKinds))]
    public async Task GetAsync_UnreadableFile_ReadsAsAbsentIsQuarantinedAndLoggedWithoutTheId(string kind)
    {
        using var logs = new CapturingLoggerProvider();
        var store = NewStore(logs);
        var id = "victim-" + Guid.NewGuid();
        await store.CreateAsync(NewSession(id, userId: "owner"), _t0);
        await store.CreateAsync(NewSession("neighbour"), _t0);
        var path = SessionPath(id);
        Corrupt(path, kind);

        var loaded = await store.GetAsync(id, _t0);

        loaded.Should().BeNull();
        File.Exists(path).Should().BeFalse("the unreadable file is moved aside");
        Directory.EnumerateFiles(Path.Combine(Root, ".quarantine")).Should().ContainSingle();
        var entry = logs.Entries.Should().ContainSingle(static e => e.EventId.Id == 100).Subject;
        entry.Level.Should().Be(LogLevel.Warning);
        logs.Entries.Should().NotContain(e => e.AllText.Contains(id, StringComparison.Ordinal) || e.AllText.Contains("neighbour", StringComparison.Ordinal));
        (await store.GetAsync("neighbour", _t0)).Should().NotBeNull("every other session keeps working");
        (await store.QueryAsync(new SessionQuery { UserId = "owner" }, _t0)).Sessions.Should().BeEmpty();
    }

    [Fact]
    public async Task CreateAsync_OverUnreadableFile_QuarantinesItAndCreates()
    {
        var store = NewStore();
        await store.CreateAsync(NewSession("reborn"), _t0);
        Corrupt(SessionPath("reborn"), "truncated");

        var created = await store.CreateAsync(NewSession("reborn", userId: "new"), _t0);

        created.Should().BeTrue();
        (await store.GetAsync("reborn", _t0))!.UserId.Should().Be("new");
        Directory.EnumerateFiles(Path.Combine(Root, ".quarantine")).Should().ContainSingle();
    }

    [Fact]
    public async Task UpdateAsync_UnreadableFile_ReturnsNotFoundAndDoesNotRecreate()
    {
        var store = NewStore();
        await store.CreateAsync(NewSession("broken"), _t0);
        Corrupt(SessionPath("broken"), "garbage");

        var result = await store.UpdateAsync("broken", new SessionChanges().SetMetadata("a", "b"), _t0, MaxState);

        result.Status.Should().Be(SessionUpdateStatus.NotFound);
        File.Exists(SessionPath("broken")).Should().BeFalse();
    }

    [Fact]
    public async Task SweepAsync_UnreadableExpiredCandidate_IsQuarantinedAndCounted()
    {
        var store = NewStore();
        await store.CreateAsync(NewSession("stale"), _t0);
        var path = SessionPath("stale");
        var mtime = File.GetLastWriteTimeUtc(path);
        Corrupt(path, "garbage");
        File.SetLastWriteTimeUtc(path, mtime);

        var result = await store.SweepAsync(_t0 + Idle, 100);

        result.QuarantinedFiles.Should().Be(1);
        result.RemovedSessions.Should().BeEmpty();
        File.Exists(path).Should().BeFalse();
    }

    // ───────────────────────────── Sweep ─────────────────────────────

    [Fact]
    public async Task CreateAsync_SessionFile_HasItsExpiryAsModificationTime()
    {
        var store = NewStore();
        var session = NewSession("mtime");

        await store.CreateAsync(session, _t0);
        await store.TouchAsync("mtime", _t0 + TimeSpan.FromMinutes(3));

        File.GetLastWriteTimeUtc(SessionPath("mtime")).Should().Be((_t0 + TimeSpan.FromMinutes(3) + Idle).UtcDateTime);
    }

    [Fact]
    public async Task SweepAsync_LiveSessionWhoseTimeAnotherToolChanged_IsKeptAndGetsItsExpiryBack()
    {
        var store = NewStore();
        await store.CreateAsync(NewSession("retimed"), _t0);
        var path = SessionPath("retimed");
        File.SetLastWriteTimeUtc(path, _t0.UtcDateTime.AddDays(-1));

        var result = await store.SweepAsync(_t0 + TimeSpan.FromMinutes(1), 100);

        result.RemovedSessions.Should().BeEmpty();
        File.GetLastWriteTimeUtc(path).Should().Be((_t0 + Idle).UtcDateTime);
    }

    [Fact]
    public async Task SweepAsync_OrphanedTempFile_IsRemovedAndCounted()
    {
        var store = NewStore();
        await store.CreateAsync(NewSession("host"), _t0);
        var orphan = PlantTempFile("host");

        var result = await store.SweepAsync(_t0, 100);

        result.RemovedTempFiles.Should().Be(1);
        File.Exists(orphan).Should().BeFalse();
        (await store.GetAsync("host", _t0)).Should().NotBeNull();
    }

    [Fact]
    public async Task SweepAsync_TempFileWhileItsShardIsLockedByAWriter_IsKept()
    {
        var store = NewStore();
        await store.CreateAsync(NewSession("busy"), _t0);
        var orphan = PlantTempFile("busy");
        var shard = Path.GetFileName(Path.GetDirectoryName(orphan))!;

        // What a writer in another process holds while its temp file exists.
        using (new FileStream(Path.Combine(Root, ".locks", shard + ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var whileLocked = await store.SweepAsync(_t0, 100);

            whileLocked.RemovedTempFiles.Should().Be(0);
            File.Exists(orphan).Should().BeTrue();
        }

        (await store.SweepAsync(_t0, 100)).RemovedTempFiles.Should().Be(1);
    }

    [Fact]
    public async Task SweepAsync_SmallBatchSize_BoundsEachCallAndResumesUntilEverythingIsSwept()
    {
        var store = NewStore(configure: static o => o.SweepBatchSize = 10);
        for (var i = 0; i < 60; i++)
        {
            await store.CreateAsync(NewSession($"batch-{i}", userId: "u"), _t0);
        }

        var later = _t0 + Idle;
        var first = await store.SweepAsync(later, 1000);
        var removed = first.RemovedSessions.Count;
        var calls = 1;
        var completed = first.PassCompleted;
        while (!completed && calls < 100)
        {
            var next = await store.SweepAsync(later, 1000);
            next.VisitedEntries.Should().BeLessThan(10 + 10, "a call stops after the shard that reaches the batch size");
            removed += next.RemovedSessions.Count;
            completed = next.PassCompleted;
            calls++;
        }

        first.RemovedSessions.Count.Should().BeInRange(1, 59);
        calls.Should().BeGreaterThan(3);
        removed.Should().Be(60);
        SessionFiles().Should().BeEmpty();
        Directory.Exists(Path.Combine(Root, ".index", "user")).Should().BeTrue();
        Directory.EnumerateFiles(Path.Combine(Root, ".index"), "*", SearchOption.AllDirectories).Should().BeEmpty("swept sessions leave no index entries");
    }

    [Fact]
    public async Task QueryAsync_StaleIndexEntry_IsSkippedAndPruned()
    {
        var store = NewStore();
        await store.CreateAsync(NewSession("real", userId: "alice"), _t0);
        var userDirectory = Path.GetDirectoryName(Directory.EnumerateFiles(Path.Combine(Root, ".index", "user"), "*", SearchOption.AllDirectories).Single())!;
        var stale = Path.Combine(userDirectory, new string('a', 64));
        File.WriteAllBytes(stale, []);

        var page = await store.QueryAsync(new SessionQuery { UserId = "alice" }, _t0);

        page.Sessions.Select(static s => s.Id).Should().Equal("real");
        File.Exists(stale).Should().BeFalse();
    }

    // ───────────────────────────── Restart ─────────────────────────────

    [Fact]
    public async Task NewStoreOnTheSameDirectory_SeesEveryLiveSessionAndItsIndexes()
    {
        var before = NewStore();
        for (var i = 0; i < 30; i++)
        {
            await before.CreateAsync(NewSession($"restart-{i}", userId: $"user-{i % 3}", kind: "k"), _t0);
            await before.UpdateAsync($"restart-{i}", new SessionChanges().SetState("i", i), _t0 + TimeSpan.FromSeconds(1), MaxState);
        }

        await before.DeleteAsync("restart-0", _t0);

        var after = NewStore();

        for (var i = 1; i < 30; i++)
        {
            var session = await after.GetAsync($"restart-{i}", _t0 + TimeSpan.FromMinutes(5));
            session!.Version.Should().Be(2);
            session.GetState<int>("i").Should().Be(i);
        }

        (await after.GetAsync("restart-0", _t0)).Should().BeNull();
        (await after.QueryAsync(new SessionQuery { UserId = "user-1" }, _t0)).Sessions.Should().HaveCount(10);
        (await after.QueryAsync(new SessionQuery { Kind = "k", Limit = 1000 }, _t0)).Sessions.Should().HaveCount(29);
    }

    // ───────────────────────────── Crash ─────────────────────────────

    [Fact]
    public async Task ChildKilledBySigkillAtRandomMoments_EveryFileParsesAndEveryAcknowledgedWriteIsPresent()
    {
        const int Kills = 24;
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var setup = NewStore();
        (await setup.CreateAsync(NewSession("crash-shared") with { IdleTimeout = TimeSpan.FromHours(1) }, DateTimeOffset.UtcNow)).Should().BeTrue();

        var acknowledged = new List<string>();
        for (var run = 0; run < Kills; run++)
        {
            await using var child = FileStoreChildProcess.Start("crash", Root, run.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await child.WaitForLineAsync(static l => l == "ready", TimeSpan.FromSeconds(30));
            await child.WaitForLineAsync(static l => l.StartsWith("C ", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            await Task.Delay(random.Next(5, 120));
            await child.KillAsync();
            acknowledged.AddRange(child.Lines.Where(static l => l != "ready"));
        }

        // Every file in the store parses; temp files are counted, never read as sessions.
        var files = SessionFiles();
        foreach (var file in files)
        {
            var act = () => SessionSerializer.Deserialize(File.ReadAllBytes(file));
            act.Should().NotThrow(file);
        }

        var temps = Directory.EnumerateFiles(Root, "*.tmp", SearchOption.AllDirectories).Count();
        var store = NewStore();
        var listed = await QueryAllAsync(store, new SessionQuery { Limit = 1000 });
        listed.Should().HaveCount(files.Count, "a query lists exactly the session files, no temp file");

        var verified = VerifyAcknowledgements(acknowledged, await GetAllAsync(store, acknowledged));
        var sweep = await store.SweepAsync(DateTimeOffset.UtcNow, 1000);
        output.WriteLine($"seed {seed}: {Kills} SIGKILLs, {verified} acknowledged writes verified, {files.Count} session files, {temps} orphaned temp files (sweep removed {sweep.RemovedTempFiles}).");

        verified.Should().BeGreaterThan(Kills * 4, "each child acknowledged writes before it died");
        sweep.RemovedTempFiles.Should().Be(temps);
        Directory.EnumerateFiles(Root, "*.tmp", SearchOption.AllDirectories).Should().BeEmpty();
    }

    private static async Task<Dictionary<string, Session?>> GetAllAsync(FileSessionStore store, List<string> acknowledged)
    {
        var now = DateTimeOffset.UtcNow;
        var sessions = new Dictionary<string, Session?>(StringComparer.Ordinal) { ["crash-shared"] = await store.GetAsync("crash-shared", now) };
        foreach (var line in acknowledged)
        {
            var parts = line.Split(' ');
            if (parts[0] is "C" or "U" or "D" or "d" && !sessions.ContainsKey(parts[1]))
            {
                sessions[parts[1]] = await store.GetAsync(parts[1], now);
            }
        }

        return sessions;
    }

    /// <summary>Checks every acknowledged line against the store: creates exist, updates are there (by version and key), deletes are gone.</summary>
    /// <returns>How many acknowledged writes were checked.</returns>
    private static int VerifyAcknowledgements(List<string> acknowledged, Dictionary<string, Session?> sessions)
    {
        // "d <id>" announces a delete; a session whose delete was announced may be gone even if "D <id>" never came.
        var deleted = acknowledged.Where(static l => l.StartsWith("d ", StringComparison.Ordinal)).Select(static l => l[2..]).ToHashSet(StringComparer.Ordinal);
        var checks = 0;
        foreach (var line in acknowledged)
        {
            var parts = line.Split(' ');
            switch (parts)
            {
                case ["C", var id]:
                    if (!deleted.Contains(id))
                    {
                        sessions[id].Should().NotBeNull($"the create of {id} was acknowledged");
                    }

                    break;
                case ["U", var id, var version, var key]:
                    if (!deleted.Contains(id))
                    {
                        var session = sessions[id]!;
                        session.Version.Should().BeGreaterThanOrEqualTo(long.Parse(version, System.Globalization.CultureInfo.InvariantCulture), line);
                        session.GetState<int>(key).Should().Be(int.Parse(key[1..], System.Globalization.CultureInfo.InvariantCulture), line);
                    }

                    break;
                case ["S", var key, var version]:
                    var shared = sessions["crash-shared"]!;
                    shared.Metadata.Should().ContainKey(key, line);
                    shared.Version.Should().BeGreaterThanOrEqualTo(long.Parse(version, System.Globalization.CultureInfo.InvariantCulture), line);
                    break;
                case ["D", var id]:
                    sessions[id].Should().BeNull($"the delete of {id} was acknowledged");
                    break;
                case ["d", _]:
                    continue;
                default:
                    throw new InvalidOperationException($"Unexpected acknowledgement '{line}'.");
            }

            checks++;
        }

        return checks;
    }

    // ───────────────────────────── Helpers ─────────────────────────────

    private FileSessionStore NewStore(ILoggerFactory? loggerFactory = null, Action<FileSessionStoreOptions>? configure = null)
    {
        var options = new FileSessionStoreOptions { Directory = Root };
        configure?.Invoke(options);
        return new FileSessionStore(options, loggerFactory);
    }

    private Session NewSession(string id, string? userId = null, string? kind = null) => new()
    {
        Id = id,
        UserId = userId,
        Kind = kind,
        CreatedAt = _t0,
        LastAccessedAt = _t0,
        IdleTimeout = Idle,
        Version = 1,
        State = new Dictionary<string, JsonElement> { ["seed"] = JsonSerializer.SerializeToElement(1) },
    };

    private string SessionPath(string id)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.Unicode.GetBytes(id)));
        return Path.Combine(Root, hash[..3], hash + ".json");
    }

    private List<string> SessionFiles() =>
        [.. Directory.EnumerateFiles(Root, "*.json", SearchOption.AllDirectories)
            .Where(p => !p.Contains(Path.DirectorySeparatorChar + ".quarantine" + Path.DirectorySeparatorChar, StringComparison.Ordinal))];

    private string PlantTempFile(string id)
    {
        var path = SessionPath(id);
        var temp = Path.ChangeExtension(path, null) + ".0123456789abcdef.tmp";
        File.WriteAllBytes(temp, Encoding.UTF8.GetBytes("{\"v\":1,\"id\":\"half"));
        return temp;
    }

    private void Corrupt(string path, string kind)
    {
        var valid = File.ReadAllBytes(path);
        byte[] bytes = kind switch
        {
            "garbage" => RandomNumberGenerator.GetBytes(200),
            "truncated" => valid[..(valid.Length / 2)],
            "empty" => [],
            "foreign-json" => Encoding.UTF8.GetBytes("{\"hello\":\"world\"}"),
            "future-format" => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(valid).Replace("\"v\":1", "\"v\":99", StringComparison.Ordinal)),
            "misplaced" => SessionSerializer.SerializeToUtf8Bytes(NewSession("someone-else")),
            "json-null" => Encoding.UTF8.GetBytes("null"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        File.WriteAllBytes(path, bytes);
    }

    private static async Task<List<Session>> QueryAllAsync(FileSessionStore store, SessionQuery query)
    {
        var sessions = new List<Session>();
        var current = query;
        for (var page = 0; page < 1000; page++)
        {
            var result = await store.QueryAsync(current, DateTimeOffset.UtcNow);
            sessions.AddRange(result.Sessions);
            if (result.NextCursor is null)
            {
                return sessions;
            }

            current = query with { Cursor = result.NextCursor };
        }

        throw new InvalidOperationException("Paging did not end.");
    }
}
