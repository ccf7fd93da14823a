using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.Options;
using SessionKit.Security;
using SessionKit.Stores;

namespace SessionKit.Benchmarks;

/// <summary>
/// The cost of encryption at rest: manager get and update on the in-memory store with and without
/// <see cref="SessionKitOptions.Encryption"/>. The baseline of each category is the same operation in clear; each
/// session holds one metadata and one state value, and an update writes one state value.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class EncryptionBenchmarks
{
    private const int Sessions = 10_000;

    private readonly SessionChanges _change = new SessionChanges().SetState("counter", 42);
    private SessionManager _clear = null!;
    private SessionManager _encrypted = null!;
    private string[] _clearIds = null!;
    private string[] _encryptedIds = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _clear = NewManager(encryption: null);
        _encrypted = NewManager(new SessionEncryptionOptions { KeyId = "bench", Key = Enumerable.Repeat((byte)7, SessionEncryptionOptions.KeyBytes).ToArray() });
        _clearIds = Seed(_clear);
        _encryptedIds = Seed(_encrypted);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _clear.Dispose();
        _encrypted.Dispose();
    }

    [Benchmark(Baseline = true, Description = "GetAsync, clear")]
    [BenchmarkCategory("get")]
    public SessionLookupResult GetClear() => _clear.GetAsync(_clearIds[_next++ % Sessions]).Sync();

    [Benchmark(Description = "GetAsync, encrypted")]
    [BenchmarkCategory("get")]
    public SessionLookupResult GetEncrypted() => _encrypted.GetAsync(_encryptedIds[_next++ % Sessions]).Sync();

    [Benchmark(Baseline = true, Description = "UpdateAsync, clear")]
    [BenchmarkCategory("update")]
    public SessionUpdateResult UpdateClear() => _clear.UpdateAsync(_clearIds[_next++ % Sessions], _change).Sync();

    [Benchmark(Description = "UpdateAsync, encrypted")]
    [BenchmarkCategory("update")]
    public SessionUpdateResult UpdateEncrypted() => _encrypted.UpdateAsync(_encryptedIds[_next++ % Sessions], _change).Sync();

    private static SessionManager NewManager(SessionEncryptionOptions? encryption) =>
        new(new InMemorySessionStore(), Options.Create(new SessionKitOptions { IdleTimeout = TimeSpan.FromHours(1), EnableBackgroundCleanup = false, Encryption = encryption }));

    private static string[] Seed(SessionManager manager)
    {
        var ids = new string[Sessions];
        for (var i = 0; i < Sessions; i++)
        {
            ids[i] = manager.CreateAsync(new SessionCreateOptions().WithMetadata("tenant", "contoso").WithState("cart", new { items = 3, note = "book" }))
                .AsTask().GetAwaiter().GetResult().Id;
        }

        return ids;
    }
}
