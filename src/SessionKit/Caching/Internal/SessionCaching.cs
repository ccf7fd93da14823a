using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using SessionKit.Internal;
using SessionKit.Stores;

namespace SessionKit.Caching;

/// <summary>
/// Restore-on-miss, in one place: the L1 snapshot cache, the backplane wiring, write-behind touches and the change
/// feed that live sessions and the broadcaster follow. The manager is policy and calls in at a few named points
/// (<see cref="LoadAsync"/>, <see cref="Created"/>, <see cref="TouchAsync"/>, <see cref="UpdatedAsync"/>,
/// <see cref="DeletedAsync"/>, <see cref="ExpiredAsync"/>, <see cref="RotatedAsync"/>); everything the tiers do
/// in between lives here.
/// </summary>
/// <remarks>
/// The L1 is off unless <see cref="SessionCacheOptions.Enabled"/>, and always off in front of the in-memory store
/// (already a local cache); the change feed and the announcements to a backplane work either way, so other nodes'
/// caches stay coherent with this node's writes.
/// </remarks>
internal sealed partial class SessionCaching : IAsyncDisposable
{
    private readonly TimedSessionStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SessionKitMetrics _metrics;
    private readonly SessionCacheOptions? _options;
    private readonly SessionSnapshotCache? _cache;
    private readonly ISessionBackplane? _backplane;
    private readonly IDisposable? _backplaneSubscription;
    private readonly CancellationTokenSource _stopping = new();
    private readonly bool _strict = true;
    private int _disposed;

    /// <summary>Initializes a new instance of the <see cref="SessionCaching"/> class.</summary>
    /// <param name="store">The store, timed.</param>
    /// <param name="options">The cache options; <see langword="null"/> or not enabled for no L1.</param>
    /// <param name="backplane">The backplane; <see langword="null"/> for an in-process one when the L1 is on, none otherwise.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">The logger (caching messages use event ids 40–69).</param>
    /// <param name="metrics">The instruments.</param>
    public SessionCaching(TimedSessionStore store, SessionCacheOptions? options, ISessionBackplane? backplane, TimeProvider time, ILogger logger, SessionKitMetrics metrics)
    {
        _store = store;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        if (options is null || !options.Enabled || (store.Inner is Internal.Encryption.EncryptingSessionStore encrypting ? encrypting.Inner : store.Inner) is InMemorySessionStore)
        {
            _backplane = backplane;
            return;
        }

        _options = options;
        _backplane = backplane ?? new InProcessSessionBackplane();
        _strict = options.StrictRevocation;
        _cache = new SessionSnapshotCache(options, connected: false, gate: _strict ? _backplane : null);
        _backplaneSubscription = _backplane.Subscribe(new BackplaneSubscriber(this));

        // Subscribe first, then read the state: a change in between arrives as a callback and flushes again.
        _cache.Flush(_backplane.IsConnected);
        if (options.WriteBehindTouches)
        {
            StartWriteBehind(options);
        }

        Log.CacheEnabled(_logger, options.MaxEntries, options.EntryDuration.TotalSeconds, _backplane.GetType().Name, _backplane.IsConnected);
    }

    /// <summary>
    /// Raised for every change this node makes (update, delete, expiry, rotation) and every invalidation another node
    /// sends over the backplane. Live sessions follow it. Handlers must be fast; a handler that throws is logged.
    /// </summary>
    public event Action<SessionBackplaneMessage>? Changed;

    /// <summary>Gets this node's id on the backplane.</summary>
    public string NodeId { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(9));

    /// <summary>Gets the L1 cache, or <see langword="null"/> when off.</summary>
    public SessionSnapshotCache? Cache => _cache;

    /// <summary>Gets the clock.</summary>
    public TimeProvider TimeProvider => _time;

    /// <summary>Gets the instruments.</summary>
    public SessionKitMetrics Metrics => _metrics;

    /// <summary>Gets the logger shared by the caching tiers (event ids 40–69).</summary>
    public ILogger Logger => _logger;

    /// <summary>Loads a session: from the L1 when it holds a valid entry, else from the store (one load per id at a time).</summary>
    /// <param name="id">The session id.</param>
    /// <param name="now">The current time.</param>
    /// <param name="cancellationToken">The caller's token; a shared load runs under the component's own.</param>
    /// <returns>The live snapshot (with any pending write-behind slide applied), or <see langword="null"/>.</returns>
    public ValueTask<Session?> LoadAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_cache is not { } cache)
        {
            return _store.GetAsync(id, now, cancellationToken);
        }

        if (cache.TryGet(id, now, out var cached))
        {
            // The L1 hit: no allocation, no await.
            _metrics.CacheHits.Add(1);
            return new(WithPendingTouch(id, cached));
        }

        return LoadThroughCacheAsync(cache, id, now, cancellationToken);
    }

    private async ValueTask<Session?> LoadThroughCacheAsync(SessionSnapshotCache cache, string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        _metrics.CacheMisses.Add(1);
        var load = cache.GetOrLoadAsync(id, now, static (store, i, n, t) => store.GetAsync(i, n, t), _store, _stopping.Token);
        var session = await load.WaitAsync(cancellationToken).ConfigureAwait(false);
        return session is not null && session.IsLiveAt(now) ? WithPendingTouch(id, session) : null;
    }

    /// <summary>Records a session this node created.</summary>
    /// <param name="session">The created session.</param>
    /// <param name="now">The current time.</param>
    public void Created(Session session, DateTimeOffset now) => _cache?.Put(session, now);

    /// <summary>Slides a session: deferred under write-behind, else written to the store at once.</summary>
    /// <param name="session">The session as read.</param>
    /// <param name="now">The current time.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns><see langword="false"/> when the store found the session gone.</returns>
    public ValueTask<bool> TouchAsync(Session session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_pendingTouches is not null && CanDefer(session, now))
        {
            DeferTouch(session.Id, now);
            return new(true);
        }

        return TouchStoreAsync(session.Id, now, cancellationToken);
    }

    private async ValueTask<bool> TouchStoreAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var touched = await _store.TouchAsync(id, now, cancellationToken).ConfigureAwait(false);
        if (_cache is { } cache)
        {
            if (touched)
            {
                cache.Touched(id, now);
            }
            else
            {
                cache.Invalidate(id, long.MaxValue, terminal: true);
            }
        }

        return touched;
    }

    /// <summary>Records the outcome of an update: caches the new snapshot and announces it, or drops a stale entry.</summary>
    /// <param name="id">The id the update went to.</param>
    /// <param name="result">The store's answer.</param>
    /// <param name="now">The current time.</param>
    /// <param name="rotated">Whether the update retired the id into a rotation forwarder.</param>
    /// <returns>A task that completes when the change has been announced.</returns>
    public ValueTask UpdatedAsync(string id, SessionUpdateResult result, DateTimeOffset now, bool rotated)
    {
        switch (result.Status)
        {
            case SessionUpdateStatus.Updated when result.Session is { } updated:
                _cache?.Put(updated, now);
                DropPendingTouch(id, upTo: now);
                return AnnounceAsync(id, rotated ? SessionBackplaneAction.Rotated : SessionBackplaneAction.Updated, updated.Version, publish: true);
            case SessionUpdateStatus.NotFound:
                _cache?.Invalidate(id, long.MaxValue, terminal: true);
                break;
            case SessionUpdateStatus.Conflict when result.CurrentVersion is { } current:
                _cache?.Invalidate(id, current, terminal: false);
                break;
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Records a delete: drops the id everywhere on this node and, when something was removed, on every other.</summary>
    /// <param name="id">The deleted id.</param>
    /// <param name="removed">Whether the store removed a live session.</param>
    /// <returns>A task that completes when the delete has been announced.</returns>
    public ValueTask DeletedAsync(string id, bool removed) => AnnounceAsync(id, SessionBackplaneAction.Deleted, long.MaxValue, publish: removed);

    /// <summary>Announces that an id was retired by a rotation while its record stays as a forwarder.</summary>
    /// <param name="oldId">The retired id.</param>
    /// <returns>A task that completes when the rotation has been announced.</returns>
    public ValueTask RotatedAsync(string oldId) => AnnounceAsync(oldId, SessionBackplaneAction.Rotated, long.MaxValue, publish: true);

    /// <summary>Announces sessions the sweep removed.</summary>
    /// <param name="removed">The removed sessions.</param>
    /// <returns>A task that completes when every expiry has been announced.</returns>
    public Task ExpiredAsync(IReadOnlyList<Session> removed)
    {
        if (removed.Count == 0 || (_cache is null && _backplane is null && Changed is null))
        {
            return Task.CompletedTask;
        }

        var announcements = new Task[removed.Count];
        for (var i = 0; i < removed.Count; i++)
        {
            announcements[i] = AnnounceAsync(removed[i].Id, SessionBackplaneAction.Expired, long.MaxValue, publish: true).AsTask();
        }

        return Task.WhenAll(announcements);
    }

    /// <summary>Stops following the backplane, then persists pending touches (bounded by <see cref="SessionCacheOptions.DisposeFlushTimeout"/>).</summary>
    /// <returns>A task that completes when the caching tiers have stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _backplaneSubscription?.Dispose();
        await StopWriteBehindAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
