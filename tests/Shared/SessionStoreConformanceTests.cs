using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static SessionKit.Tests.SessionAssertions;

namespace SessionKit.Tests;

/// <summary>
/// The contract every <see cref="ISessionStore"/> passes (DESIGN §3). Each store's test class derives from this
/// class and supplies a fresh, empty, isolated store from <see cref="CreateStore"/>; a store is done when it passes
/// every test here.
/// </summary>
/// <remarks>
/// <para>Time: the store takes <c>now</c> on every call. Every instant here is <see cref="T0"/> (the real current
/// time, truncated to whole milliseconds, because the Redis store maps expiry to server TTLs) plus whole
/// milliseconds, and idle timeouts are minutes long, so nothing expires in real time during a test: logical expiry
/// is tested by passing a later <c>now</c>.</para>
/// <para>State values are built in System.Text.Json's canonical form (<see cref="SessionAssertions.Json{T}"/>), so
/// stores that re-serialize state can be compared by raw JSON text.</para>
/// <para>The facts are split by operation into partial files (<c>SessionStoreConformanceTests.Create.cs</c>,
/// <c>.Get.cs</c>, <c>.Update.cs</c> …); this file holds the abstract members, lifecycle and shared helpers.</para>
/// </remarks>
public abstract partial class SessionStoreConformanceTests : IAsyncLifetime
{
    /// <summary>The state limit used where a test is not about the limit (the manager's default, 1 MiB).</summary>
    protected const long DefaultMaxStateBytes = 1024 * 1024;

    private const int RaceWidth = 64;
    private const int SweepRaceSessions = 200;
    private const int SweepRaceRounds = 3;
    private const int DeleteRaceIterations = 200;
    private const int MaxPages = 100;
    private const int MaxSweepCalls = 100;

    private static readonly Dictionary<string, string> _oddIds = new(StringComparer.Ordinal)
    {
        ["redis-special"] = "a:b{c}*?[x] ",
        ["glob-star"] = "*",
        ["hash-tag"] = "{tag}",
        ["path-like"] = "../../etc/passwd",
        ["non-ascii"] = "sessão-中文-😀-\u00e9\u0301",
        ["control-chars"] = "line\nbreak\ttab\r",
        ["nul-char"] = "nul\0byte",
        ["quotes"] = "q\"uote'back\\slash%s",
        ["long-1kb"] = string.Concat(Enumerable.Range(0, 1024).Select(static i => "AbCdEfGhIj0123456789-_xyzQ"[i % 26])),
    };

    private ISessionStore? _store;

    /// <summary>Gets the base instant of the test: the real current time, truncated to whole milliseconds.</summary>
    protected DateTimeOffset T0 { get; } = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    /// <summary>Gets the default idle timeout of sessions in this suite.</summary>
    protected static TimeSpan Idle { get; } = TimeSpan.FromMinutes(20);

    /// <summary>Gets the store under test, created by <see cref="InitializeAsync"/>.</summary>
    protected ISessionStore Store => _store ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    /// <summary>Gets the names of the odd-but-legal ids every store must handle (for theories).</summary>
    public static TheoryData<string> OddIdCases => [.. _oddIds.Keys];

    /// <summary>Creates a fresh, empty store, isolated from every other store this method returns.</summary>
    /// <returns>The store.</returns>
    protected abstract ISessionStore CreateStore();

    /// <summary>Creates <see cref="Store"/>.</summary>
    /// <returns>A task that completes when the store exists.</returns>
    public virtual Task InitializeAsync()
    {
        _store = CreateStore();
        return Task.CompletedTask;
    }

    /// <summary>Disposes <see cref="Store"/> through <see cref="DisposeStoreAsync"/>.</summary>
    /// <returns>A task that completes when the store is disposed.</returns>
    public virtual async Task DisposeAsync()
    {
        if (_store is { } store)
        {
            _store = null;
            await DisposeStoreAsync(store);
        }
    }

    /// <summary>Disposes a store created by <see cref="CreateStore"/>, if it is disposable.</summary>
    /// <param name="store">The store.</param>
    /// <returns>A task that completes when the store is disposed.</returns>
    protected virtual async ValueTask DisposeStoreAsync(ISessionStore store)
    {
        switch (store)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    [Fact]
    public void Name_Always_IsNotEmpty()
    {
        Store.Name.Should().NotBeNullOrWhiteSpace();
    }

    /// <summary>Creates a random session id shaped like the manager's: 32 random bytes, base64url, 43 chars.</summary>
    /// <returns>The id.</returns>
    protected static string NewId() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>Returns a whole number of milliseconds as a <see cref="TimeSpan"/>.</summary>
    /// <param name="milliseconds">The milliseconds.</param>
    /// <returns>The span.</returns>
    protected static TimeSpan Ms(int milliseconds) => TimeSpan.FromMilliseconds(milliseconds);

    /// <summary>Builds a minimal session (version 1) created and last accessed at <paramref name="at"/> (default <see cref="T0"/>).</summary>
    /// <param name="id">The id; random when <see langword="null"/>.</param>
    /// <param name="userId">The owner.</param>
    /// <param name="kind">The kind.</param>
    /// <param name="idleTimeout">The idle timeout; <see cref="Idle"/> when <see langword="null"/>.</param>
    /// <param name="absoluteExpiresAt">The absolute expiry.</param>
    /// <param name="at">The creation and last-access instant.</param>
    /// <returns>The session.</returns>
    protected Session NewSession(
        string? id = null,
        string? userId = null,
        string? kind = null,
        TimeSpan? idleTimeout = null,
        DateTimeOffset? absoluteExpiresAt = null,
        DateTimeOffset? at = null) => new()
        {
            Id = id ?? NewId(),
            UserId = userId,
            Kind = kind,
            CreatedAt = at ?? T0,
            LastAccessedAt = at ?? T0,
            IdleTimeout = idleTimeout ?? Idle,
            AbsoluteExpiresAt = absoluteExpiresAt,
            Version = 1,
        };

    /// <summary>Builds a session with every field set to a distinct, non-default value.</summary>
    /// <returns>The session.</returns>
    protected Session NewRichSession() => new()
    {
        Id = NewId(),
        UserId = "user-" + NewId()[..8],
        Kind = "streamable",
        CreatedAt = T0 - TimeSpan.FromSeconds(90),
        LastAccessedAt = T0 - TimeSpan.FromSeconds(30),
        IdleTimeout = TimeSpan.FromMinutes(17),
        AbsoluteExpiresAt = T0 + TimeSpan.FromHours(2) + Ms(123),
        Version = 1,
        Metadata = new Dictionary<string, string> { ["tenant"] = "t-1", ["region"] = "eu-west" },
        State = new Dictionary<string, JsonElement>
        {
            ["cart"] = Json(new { items = new[] { "x" }, total = 12.5 }),
            ["flag"] = Json(true),
            ["count"] = Json(3),
            ["name"] = Json("Zoë"),
        },
        Binding = new Dictionary<string, string> { ["salt"] = "c2FsdHNhbHRzYWx0c2FsdA", ["hash"] = "aGFzaA" },
    };

    /// <summary>Creates a session, asserting that the store accepted it.</summary>
    /// <param name="session">The session.</param>
    /// <returns>The session.</returns>
    protected async Task<Session> CreateLiveAsync(Session session)
    {
        ArgumentNullException.ThrowIfNull(session);
        (await Store.CreateAsync(session, session.LastAccessedAt > T0 ? session.LastAccessedAt : T0)).Should().BeTrue("the arrange step creates a new session");
        return session;
    }

    /// <summary>Gets a session, asserting that it is live.</summary>
    /// <param name="id">The session id.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The snapshot.</returns>
    protected async Task<Session> GetLiveAsync(string id, DateTimeOffset now)
    {
        var session = await Store.GetAsync(id, now);
        session.Should().NotBeNull("the session should be live at {0:O}", now);
        return session!;
    }

    /// <summary>Applies a change set, asserting that it was applied.</summary>
    /// <param name="id">The session id.</param>
    /// <param name="changes">The change set.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The new snapshot.</returns>
    protected async Task<Session> UpdateOrFailAsync(string id, SessionChanges changes, DateTimeOffset now)
    {
        var result = await Store.UpdateAsync(id, changes, now, DefaultMaxStateBytes);
        result.Status.Should().Be(SessionUpdateStatus.Updated);
        result.Session.Should().NotBeNull();
        return result.Session!;
    }

    /// <summary>
    /// Reads every page of a query. A page never holds more than the limit, but may hold fewer (even none) while
    /// <see cref="SessionPage.NextCursor"/> is non-null (SCAN semantics); the loop is bounded.
    /// </summary>
    /// <param name="query">The query; its cursor is replaced page by page.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The sessions of every page, in order (a store with SCAN semantics may repeat one).</returns>
    protected async Task<List<Session>> QueryAllAsync(SessionQuery query, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(query);
        var sessions = new List<Session>();
        string? cursor = null;
        for (var page = 0; page < MaxPages; page++)
        {
            var result = await Store.QueryAsync(query with { Cursor = cursor }, now);
            result.Sessions.Count.Should().BeLessThanOrEqualTo(query.Limit, "a page never holds more than the limit");
            foreach (var session in result.Sessions)
            {
                session.IsLiveAt(now).Should().BeTrue("a query lists only live sessions");
                if (query.UserId is not null)
                {
                    session.UserId.Should().Be(query.UserId);
                }

                if (query.Kind is not null)
                {
                    session.Kind.Should().Be(query.Kind);
                }
            }

            sessions.AddRange(result.Sessions);
            cursor = result.NextCursor;
            if (cursor is null)
            {
                return sessions;
            }
        }

        throw new Xunit.Sdk.XunitException($"The query did not reach a null NextCursor within {MaxPages} pages.");
    }

    /// <summary>Reads every page of a query and returns the distinct ids.</summary>
    /// <param name="query">The query.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The distinct ids, in first-seen order.</returns>
    protected async Task<List<string>> QueryIdsAsync(SessionQuery query, DateTimeOffset now) =>
        [.. (await QueryAllAsync(query, now)).Select(static s => s.Id).Distinct(StringComparer.Ordinal)];

    /// <summary>Runs <paramref name="count"/> operations at once, released together from thread-pool threads.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="count">How many operations.</param>
    /// <param name="operation">The operation, given its index.</param>
    /// <returns>The results, by index.</returns>
    protected static async Task<T[]> RaceAsync<T>(int count, Func<int, Task<T>> operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = new Task<T>[count];
        for (var i = 0; i < count; i++)
        {
            var index = i;
            tasks[i] = Task.Run(async () =>
            {
                await start.Task;
                return await operation(index);
            });
        }

        start.SetResult();
        return await Task.WhenAll(tasks);
    }

    private (Session Session, DateTimeOffset ExpiresAt) ExpiringSession(bool absoluteExpiry, string? userId = null)
    {
        var session = absoluteExpiry
            ? NewSession(userId: userId, absoluteExpiresAt: T0 + TimeSpan.FromMinutes(5) + Ms(7))
            : NewSession(userId: userId, idleTimeout: TimeSpan.FromMinutes(5));
        return (session, session.ExpiresAt);
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);
}
