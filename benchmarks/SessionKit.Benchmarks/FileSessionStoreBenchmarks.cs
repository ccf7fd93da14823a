using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using SessionKit.Stores;

namespace SessionKit.Benchmarks;

/// <summary>
/// The file store's writes and reads beside the raw primitives it is built on: write a temp file, fsync, rename (the
/// write baseline) and read a file and deserialize it (the read baseline). Ratios read as "cost of the store's
/// guarantees": the shard lock (in-process gate plus <c>flock</c>), the read-check under the lock, the directory flush
/// that makes the rename durable, and the index markers. A second reference adds that directory flush to the raw
/// write, so the store's own overhead reads against the full durable primitive too.
/// </summary>
/// <remarks>
/// The store is warmed with 20,000 sessions first, so its 4096 shard directories and lock files exist, as they do in a
/// store in use; creates then measure a session write, not a one-off directory creation.
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class FileSessionStoreBenchmarks
{
    private const long MaxState = 1024 * 1024;
    private static readonly string[] Cart = ["book", "pen", "lamp"];

    private readonly SessionChanges _change = new SessionChanges().SetMetadata("page", "/checkout");
    private string _directory = null!;
    private FileSessionStore _store = null!;
    private Session _template = null!;
    private byte[] _templateBytes = null!;
    private string _rawDirectory = null!;
    private string _rawTarget = null!;
    private string _storedFile = null!;
    private DateTimeOffset _now;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _now = TimeProvider.System.GetUtcNow();
        _directory = Path.Combine(Path.GetTempPath(), "sessionkit-bench-file-" + Guid.NewGuid().ToString("N"));
        _store = new FileSessionStore(new FileSessionStoreOptions { Directory = _directory });
        _template = new Session
        {
            Id = "bench-hot",
            UserId = "user-42",
            Kind = "chat",
            CreatedAt = _now,
            LastAccessedAt = _now,
            IdleTimeout = TimeSpan.FromHours(1),
            Version = 1,
            Metadata = new Dictionary<string, string> { ["ip"] = "203.0.113.7", ["agent"] = "bench/1.0" },
            State = new Dictionary<string, JsonElement>
            {
                ["cart"] = JsonSerializer.SerializeToElement(Cart),
                ["step"] = JsonSerializer.SerializeToElement(3),
            },
        };
        _templateBytes = SessionSerializer.SerializeToUtf8Bytes(_template);
        var warm = new FileSessionStore(new FileSessionStoreOptions { Directory = _directory, FlushToDisk = false });
        for (var i = 0; i < 20_000; i++)
        {
            warm.CreateAsync(_template with { Id = "bench-warm-" + i }, _now).Sync();
        }

        _store.CreateAsync(_template, _now).Sync();
        FlushFileSystem();
        _storedFile = Directory.EnumerateFiles(_directory, "*.json", SearchOption.AllDirectories)
            .Single(f => SessionSerializer.Deserialize(File.ReadAllBytes(f)).Id == "bench-hot");

        // The raw baseline writes into a directory of its own, like one shard.
        _rawDirectory = Directory.CreateDirectory(Path.Combine(_directory, "raw")).FullName;
        _rawTarget = Path.Combine(_rawDirectory, "session.json");
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_directory, recursive: true);

    /// <summary>Writes back the warm-up's unflushed files now, so their writeback does not land in the measurements.</summary>
    internal static void FlushFileSystem()
    {
        if (!OperatingSystem.IsWindows())
        {
            using var sync = System.Diagnostics.Process.Start("sync");
            sync?.WaitForExit();
        }
    }

    [Benchmark(Baseline = true, Description = "raw temp write + fsync + rename (baseline)")]
    [BenchmarkCategory("write")]
    public void RawWrite()
    {
        var temp = Path.Combine(_rawDirectory, $"session.{_next++}.tmp");
        using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            stream.Write(_templateBytes);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, _rawTarget, overwrite: true);
    }

    [Benchmark(Description = "raw temp write + fsync + rename + directory fsync")]
    [BenchmarkCategory("write")]
    public void RawDurableWrite()
    {
        RawWrite();
        SessionKit.Internal.DurableFile.FlushDirectory(_rawDirectory);
    }

    [Benchmark(Description = "FileSessionStore.CreateAsync (user + kind)")]
    [BenchmarkCategory("write")]
    public bool Create() => _store.CreateAsync(_template with { Id = "bench-new-" + _next++ }, _now).Sync();

    [Benchmark(Description = "FileSessionStore.UpdateAsync (one metadata key)")]
    [BenchmarkCategory("write")]
    public SessionUpdateResult Update() => _store.UpdateAsync("bench-hot", _change, _now, MaxState).Sync();

    [Benchmark(Description = "FileSessionStore.TouchAsync")]
    [BenchmarkCategory("write")]
    public bool Touch() => _store.TouchAsync("bench-hot", _now + TimeSpan.FromTicks(++_next)).Sync();

    [Benchmark(Baseline = true, Description = "raw read + deserialize (baseline)")]
    [BenchmarkCategory("get")]
    public Session RawRead() => SessionSerializer.Deserialize(File.ReadAllBytes(_storedFile));

    [Benchmark(Description = "FileSessionStore.GetAsync hit")]
    [BenchmarkCategory("get")]
    public Session? Get() => _store.GetAsync("bench-hot", _now).Sync();

    [Benchmark(Description = "FileSessionStore.GetAsync miss")]
    [BenchmarkCategory("get")]
    public Session? GetMiss() => _store.GetAsync("bench-absent", _now).Sync();
}

/// <summary>
/// One full sweep pass over 100,000 sessions of which 10% are expired (re-created before every iteration), beside the
/// raw cost of listing the same files with their modification times (the baseline: the sweep's candidate scan) and of
/// reading and parsing every file (what a sweep without the expiry-as-mtime hint would pay).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5, invocationCount: 1)]
public class FileSessionStoreSweepBenchmarks
{
    private const int Sessions = 100_000;
    private const int ExpiredEvery = 10;

    private string _directory = null!;
    private FileSessionStore _store = null!;
    private FileSessionStore _loader = null!;
    private DateTimeOffset _now;

    [GlobalSetup]
    public void Setup()
    {
        _now = TimeProvider.System.GetUtcNow();
        _directory = Path.Combine(Path.GetTempPath(), "sessionkit-bench-sweep-" + Guid.NewGuid().ToString("N"));

        // Loading 100,000 sessions with fsync would take minutes; the sweep itself runs on a normal (flushing) store.
        _loader = new FileSessionStore(new FileSessionStoreOptions { Directory = _directory, FlushToDisk = false });
        _store = new FileSessionStore(new FileSessionStoreOptions { Directory = _directory, SweepBatchSize = 10_000 });
        for (var i = 0; i < Sessions; i++)
        {
            if (i % ExpiredEvery != 0)
            {
                _loader.CreateAsync(NewSession(i, expired: false), _now).Sync();
            }
        }

        FileSessionStoreBenchmarks.FlushFileSystem();
    }

    [IterationSetup(Target = nameof(Sweep))]
    public void CreateExpiredSessions()
    {
        for (var i = 0; i < Sessions; i += ExpiredEvery)
        {
            _loader.CreateAsync(NewSession(i, expired: true), _now - TimeSpan.FromHours(2)).Sync();
        }

        FileSessionStoreBenchmarks.FlushFileSystem();
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_directory, recursive: true);

    [Benchmark(Baseline = true, Description = "list every file with its mtime (baseline)")]
    public int ListWithModificationTimes()
    {
        var due = 0;
        foreach (var file in new DirectoryInfo(_directory).EnumerateFiles("*.json", SearchOption.AllDirectories))
        {
            due += file.LastWriteTimeUtc <= _now ? 1 : 0;
        }

        return due;
    }

    [Benchmark(Description = "read + parse every file (no mtime hint)")]
    public int ReadEveryFile()
    {
        var due = 0;
        foreach (var file in Directory.EnumerateFiles(_directory, "*.json", SearchOption.AllDirectories))
        {
            due += SessionSerializer.Deserialize(File.ReadAllBytes(file)).IsLiveAt(_now) ? 0 : 1;
        }

        return due;
    }

    [Benchmark(Description = "FileSessionStore sweep: full pass, 10% expired")]
    public int Sweep()
    {
        // Calls of 1,000 (the manager's default batch) resume where the last stopped, as the background cleanup does.
        var removed = 0;
        for (var calls = 0; removed < Sessions / ExpiredEvery; calls++)
        {
            if (calls > 1000)
            {
                throw new InvalidOperationException($"The sweep removed only {removed} of {Sessions / ExpiredEvery} expired sessions.");
            }

            removed += _store.SweepAsync(_now, 1000).Sync().RemovedSessions.Count;
        }

        return removed;
    }

    private Session NewSession(int i, bool expired)
    {
        var at = expired ? _now - TimeSpan.FromHours(2) : _now;
        return new Session
        {
            Id = $"sweep-{i:D6}",
            UserId = $"user-{i % 1000}",
            CreatedAt = at,
            LastAccessedAt = at,
            IdleTimeout = TimeSpan.FromHours(1),
            Version = 1,
        };
    }
}
