using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionKit.Caching;
using SessionKit.Security;
using SessionKit.Stores;

namespace SessionKit.Tests;

/// <summary>
/// The scaffold of a manager test: a manual clock, an in-memory store, and the managers (and anything else handed to
/// <see cref="Own{T}"/>) built over them, disposed together in reverse order.
/// </summary>
public sealed class ManagerHarness : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    /// <summary>Initializes a new instance of the <see cref="ManagerHarness"/> class with the clock at <paramref name="start"/>.</summary>
    /// <param name="start">The initial time; <see cref="Start"/> when <see langword="null"/>.</param>
    public ManagerHarness(DateTimeOffset? start = null)
    {
        Time = new ManualTimeProvider(start ?? Start);
    }

    /// <summary>Gets the default initial time, 2030-01-01T00:00:00Z.</summary>
    public static DateTimeOffset Start { get; } = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Gets the clock every manager built here reads.</summary>
    public ManualTimeProvider Time { get; }

    /// <summary>Gets the in-memory store managers use unless given another.</summary>
    public InMemorySessionStore Memory { get; } = new();

    /// <summary>Builds a manager over <paramref name="store"/> (default <see cref="Memory"/>) and <see cref="Time"/>, owned by the harness.</summary>
    /// <param name="store">The store; <see cref="Memory"/> when <see langword="null"/>.</param>
    /// <param name="configure">Changes the options, which start at their defaults.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <param name="meterFactory">The meter factory.</param>
    /// <param name="guards">The access guards.</param>
    /// <param name="lifecycleHandlers">The lifecycle event handlers.</param>
    /// <param name="backplane">The cache backplane.</param>
    /// <param name="cache">The restore-on-miss cache options; <see langword="null"/> for none.</param>
    /// <returns>The manager.</returns>
    public SessionManager Create(
        ISessionStore? store = null,
        Action<SessionKitOptions>? configure = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null,
        IEnumerable<ISessionGuard>? guards = null,
        IEnumerable<ISessionLifecycleHandler>? lifecycleHandlers = null,
        ISessionBackplane? backplane = null,
        SessionCacheOptions? cache = null)
    {
        var options = new SessionKitOptions();
        configure?.Invoke(options);
        if (cache is not null)
        {
            options.Cache = cache;
        }

        return Own(new SessionManager(
            store ?? Memory,
            Options.Create(options),
            Time,
            loggerFactory,
            meterFactory,
            guards,
            lifecycleHandlers,
            backplane));
    }

    /// <summary>Creates a session in <see cref="Memory"/> through a plain manager (no cache, no background cleanup), bypassing the store or cache under test.</summary>
    /// <param name="options">The creation options.</param>
    /// <returns>The session.</returns>
    public async Task<Session> SeedAsync(SessionCreateOptions? options = null) =>
        await Create(configure: static o => o.EnableBackgroundCleanup = false).CreateAsync(options);

    /// <summary>Makes the harness dispose <paramref name="disposable"/> (before anything owned earlier).</summary>
    /// <typeparam name="T">The type.</typeparam>
    /// <param name="disposable">What to dispose.</param>
    /// <returns><paramref name="disposable"/>.</returns>
    public T Own<T>(T disposable)
        where T : IAsyncDisposable
    {
        lock (_owned)
        {
            _owned.Add(disposable);
        }

        return disposable;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }
    }
}
