using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SessionKit.Caching;
using SessionKit.Internal;
using SessionKit.Internal.Encryption;
using SessionKit.Security;

namespace SessionKit;

/// <summary>
/// The session lifecycle over an <see cref="ISessionStore"/>: issues ids, applies idle and absolute timeouts,
/// slides sessions with coalesced touches, enforces per-user limits and sweeps expired sessions in the background.
/// </summary>
/// <remarks>
/// Time comes only from the injected <see cref="TimeProvider"/>, truncated to whole milliseconds, and is passed into
/// every store call, so every backend decides expiry by the same clock. The manager does not own the store: it
/// never disposes it.
/// </remarks>
public sealed partial class SessionManager : ISessionManager, IAsyncDisposable, IDisposable
{
    private const int MaxIdAttempts = 3;
    private const int MaxLimitRounds = 8;

    private readonly TimedSessionStore _store;
    private readonly SessionKitOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SessionKitMetrics _metrics;
    private readonly ISessionGuard[] _guards;
    private readonly ISessionLifecycleHandler[] _lifecycleHandlers;
    private readonly SessionCaching _caching;
    private readonly TouchCoalescer _touches = new();
    private readonly RecentSnapshots? _recentReads;
    private readonly EncryptingSessionStore? _encryption;

    /// <summary>Initializes a new instance of the <see cref="SessionManager"/> class.</summary>
    /// <param name="store">The store sessions live in.</param>
    /// <param name="options">The options, <see cref="SessionKitOptions.Cache"/> included; validated here, so a misconfiguration fails fast without a host.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggerFactory">The logger factory; <see langword="null"/> for no logging.</param>
    /// <param name="meterFactory">The meter factory; <see langword="null"/> for a process-wide meter named <see cref="SessionKitDiagnostics.MeterName"/>.</param>
    /// <param name="guards">Hijack-prevention guards run on every access; <see langword="null"/> for none.</param>
    /// <param name="lifecycleHandlers">Lifecycle event handlers; <see langword="null"/> for none.</param>
    /// <param name="backplane">Carries cache invalidations between nodes; <see langword="null"/> for an in-process one when the cache is enabled.</param>
    /// <exception cref="OptionsValidationException">The options are invalid.</exception>
    public SessionManager(
        ISessionStore store,
        IOptions<SessionKitOptions> options,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null,
        IEnumerable<ISessionGuard>? guards = null,
        IEnumerable<ISessionLifecycleHandler>? lifecycleHandlers = null,
        Caching.ISessionBackplane? backplane = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value ?? throw new ArgumentException("The options value is null.", nameof(options));
        var validation = new SessionKitOptionsValidator().Validate(Options.DefaultName, _options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(SessionKitOptions), validation.Failures);
        }

        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)loggerFactory?.CreateLogger<SessionManager>() ?? NullLogger.Instance;
        _metrics = new SessionKitMetrics(meterFactory);
        _encryption = _options.Encryption is { } encryption ? new EncryptingSessionStore(store, new SessionValueSealer(encryption)) : null;
        _store = new TimedSessionStore((ISessionStore?)_encryption ?? store, _metrics, _time);
        _guards = guards?.ToArray() ?? [];
        _lifecycleHandlers = lifecycleHandlers?.ToArray() ?? [];
        _caching = new SessionCaching(_store, _options.Cache, backplane, _time, _logger, _metrics);

        // With the L1 on, the read-first of an update is a cache hit already; without it, it would be a second remote read.
        _recentReads = _caching.Cache is null ? new RecentSnapshots() : null;
        if (_options.EnableBackgroundCleanup)
        {
            StartBackgroundCleanup();
        }
    }

    /// <summary>Gets the restore-on-miss component (the L1, backplane wiring, write-behind and the change feed).</summary>
    internal SessionCaching Caching => _caching;

    /// <inheritdoc />
    public async ValueTask<Session> CreateAsync(SessionCreateOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = await TryCreateAsync(options, cancellationToken).ConfigureAwait(false);
        return result.Session ?? throw new SessionLimitExceededException(
            $"The session did not fit the user's limit of {_options.MaxSessionsPerUser} sessions (SessionKitOptions.MaxSessionsPerUser, policy {_options.MaxSessionsPolicy}).");
    }

    /// <inheritdoc />
    public async ValueTask<SessionCreateResult> TryCreateAsync(SessionCreateOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SessionCreateOptions();
        var now = Now();
        var template = BuildNewSession(options, now);
        using var activity = StartActivity("SessionKit.Create");

        if (template.UserId is { } userId && await AtRejectingLimitAsync(userId, now, cancellationToken).ConfigureAwait(false))
        {
            return SessionCreateResult.LimitReached;
        }

        Session? created = null;
        for (var round = 0; created is null; round++)
        {
            created = await InsertAsync(template, now, cancellationToken).ConfigureAwait(false);
            if (created.UserId is null || _options.MaxSessionsPerUser is null
                || await EnforceUserLimitAsync(created, now, cancellationToken).ConfigureAwait(false))
            {
                break;
            }

            // EvictOldest: the creator's own session was evicted by newer ones that raced it; come back as the newest.
            // RejectNew: the creator saw the user over the cap and backed out, as may have everyone it raced; after a
            // random pause, try again while the user is below the cap. A few rounds at most either way.
            var rejecting = _options.MaxSessionsPolicy == MaxSessionsPolicy.RejectNew;
            if (round + 1 >= MaxLimitRounds
                || (rejecting && await BackOffAsync(round, template.UserId!, cancellationToken).ConfigureAwait(false)))
            {
                _metrics.LimitRejected.Add(1);
                Log.SessionLimitReached(_logger, _options.MaxSessionsPerUser!.Value);
                return SessionCreateResult.LimitReached;
            }

            now = Now();
            template = BuildNewSession(options, now);
            created = null;
        }

        _metrics.Created.Add(1);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.SessionCreated(_logger, SessionIdTagger.Tag(created.Id), created.ExpiresAt);
        }

        await RaiseAsync(SessionEventKind.Created, created, now).ConfigureAwait(false);
        return SessionCreateResult.Created(created);
    }

    /// <summary>Writes a new session under a fresh id (create-if-absent; a collision draws another id).</summary>
    private async ValueTask<Session> InsertAsync(Session template, DateTimeOffset now, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxIdAttempts; attempt++)
        {
            var candidate = template with { Id = SessionIds.Generate() };
            if (await CreateCoreAsync(candidate, now, cancellationToken).ConfigureAwait(false))
            {
                return candidate;
            }

            Log.SessionIdCollision(_logger, attempt + 1);
        }

        throw new InvalidOperationException(
            $"The store reported an id collision {MaxIdAttempts} times in a row for fresh 256-bit ids; the store or the random number generator is broken.");
    }

    /// <inheritdoc />
    public ValueTask<SessionLookupResult> GetAsync(string id, SessionAccessContext? context = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!SessionIds.IsWellFormed(id))
        {
            return new(SessionLookupResult.NotFound);
        }

        context ??= SessionAccessContext.Default;
        var now = Now();
        var load = _caching.LoadAsync(id, now, cancellationToken);

        // Hot path: a read that completed synchronously (memory store, cache hit), with no guards, no forwarding and
        // no touch due, costs no state machine and no allocation.
        if (load.IsCompletedSuccessfully)
        {
            var session = load.Result;
            if (session is null)
            {
                return new(SessionLookupResult.NotFound);
            }

            return _guards.Length == 0 && !session.IsForwarder && !(context.Slide && NeedsTouch(session, now))
                ? new(SessionLookupResult.Found(session))
                : AccessAsync(session, context, now, cancellationToken);
        }

        return GetSlowAsync(load, context, now, cancellationToken);
    }

    private async ValueTask<SessionLookupResult> GetSlowAsync(ValueTask<Session?> load, SessionAccessContext context, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var session = await load.ConfigureAwait(false);
        if (session is null)
        {
            return SessionLookupResult.NotFound;
        }

        var result = await AccessAsync(session, context, now, cancellationToken).ConfigureAwait(false);
        if (result.Status == SessionLookupStatus.Found && _recentReads is { } recent)
        {
            // A remote read: an update later in the same request may run its guards on this snapshot (see UpdateAsync).
            recent.Remember(result.Session!);
        }

        return result;
    }

    /// <summary>Follows a rotation forward, runs the guards, and slides when due.</summary>
    private async ValueTask<SessionLookupResult> AccessAsync(Session session, SessionAccessContext context, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var verified = await VerifyAsync(session, context, now, cancellationToken).ConfigureAwait(false);
        if (verified.Status != SessionLookupStatus.Found)
        {
            return verified;
        }

        session = verified.Session!;
        if (!context.Slide || !NeedsTouch(session, now, out var window))
        {
            return verified;
        }

        if (!_touches.TryClaim(session.Id, now, window, out var claimedAt))
        {
            // Due, but a concurrent read on this node slid it less than a window ago: report that slide.
            return claimedAt > session.LastAccessedAt ? SessionLookupResult.Found(session with { LastAccessedAt = claimedAt }) : verified;
        }

        bool touched;
        try
        {
            touched = await _caching.TouchAsync(session, now, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _touches.Release(session.Id);
            throw;
        }

        if (!touched)
        {
            // Deleted or expired between the read and the slide.
            _touches.Release(session.Id);
            return SessionLookupResult.NotFound;
        }

        return SessionLookupResult.Found(session with { LastAccessedAt = now });
    }

    /// <inheritdoc />
    public async ValueTask<SessionPage> QueryAsync(SessionQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        using var activity = StartActivity("SessionKit.Query");
        var page = await _store.QueryAsync(query, Now(), cancellationToken).ConfigureAwait(false);
        if (!page.Sessions.Any(static s => s.Binding.Count > 0))
        {
            return page;
        }

        // Binding data (hashes, salts) is for guards only, never for management listings; forwarding records of
        // rotated ids are not sessions.
        var sessions = page.Sessions
            .Where(static s => !s.IsForwarder)
            .Select(static s => s.Binding.Count == 0 ? s : s with { Binding = Session.EmptyMetadata })
            .ToArray();
        return page with { Sessions = sessions };
    }

    private Session BuildNewSession(SessionCreateOptions options, DateTimeOffset now)
    {
        if (options.UserId is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(options.UserId, nameof(options));
        }

        if (options.Kind is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(options.Kind, nameof(options));
        }

        var idle = options.IdleTimeout ?? _options.IdleTimeout;
        if (idle <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), idle, "SessionCreateOptions.IdleTimeout must be positive.");
        }

        var absolute = options.AbsoluteTimeout ?? _options.AbsoluteTimeout;
        if (absolute == Timeout.InfiniteTimeSpan)
        {
            absolute = null;
        }

        if (absolute is { } cap && cap <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), cap, "SessionCreateOptions.AbsoluteTimeout must be positive or Timeout.InfiniteTimeSpan.");
        }

        var data = options.Data;
        var binding = data.BindingChanges.Where(static p => p.Value is not null).ToDictionary(static p => p.Key, static p => p.Value!, StringComparer.Ordinal);
        binding[LineageKey] = NewLineage();
        if (_guards.Length > 0)
        {
            var bound = new SessionChanges();
            foreach (var guard in _guards)
            {
                guard.Bind(options.Access ?? SessionAccessContext.Default, bound);
            }

            foreach (var (key, value) in bound.BindingChanges)
            {
                if (value is null)
                {
                    binding.Remove(key);
                }
                else
                {
                    binding[key] = value;
                }
            }
        }

        var session = new Session
        {
            Id = string.Empty,
            UserId = options.UserId,
            Kind = options.Kind,
            CreatedAt = now,
            LastAccessedAt = now,
            IdleTimeout = idle,
            AbsoluteExpiresAt = absolute is { } a ? now + a : null,
            Version = 1,
            Metadata = Values(data.MetadataChanges),
            State = data.StateChanges.Where(static p => p.Value is not null).ToDictionary(static p => p.Key, static p => p.Value!.Value, StringComparer.Ordinal),
            Binding = binding,
        };

        var size = session.GetStateSize();
        if (size > _options.MaxStateBytes)
        {
            throw new SessionStateTooLargeException(size, _options.MaxStateBytes);
        }

        return session;

        static Dictionary<string, string> Values(IReadOnlyDictionary<string, string?> changes) =>
            changes.Where(static p => p.Value is not null).ToDictionary(static p => p.Key, static p => p.Value!, StringComparer.Ordinal);
    }

    private bool NeedsTouch(Session session, DateTimeOffset now) => NeedsTouch(session, now, out _);

    private bool NeedsTouch(Session session, DateTimeOffset now, out TimeSpan threshold)
    {
        threshold = _options.TouchThreshold is { } configured
            ? TimeSpan.FromTicks(Math.Min(configured.Ticks, session.IdleTimeout.Ticks / 2))
            : session.IdleTimeout / 10;

        // Once the sliding expiry already reaches the absolute cap, a slide cannot extend the session: skip the write.
        if (session.AbsoluteExpiresAt is { } cap && session.LastAccessedAt + session.IdleTimeout >= cap)
        {
            return false;
        }

        return now - session.LastAccessedAt >= threshold;
    }


    private DateTimeOffset Now()
    {
        var ticks = _time.GetUtcNow().UtcTicks;
        return new DateTimeOffset(ticks - (ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
    }

    private Activity? StartActivity(string name)
    {
        var activity = SessionKitMetrics.ActivitySource.StartActivity(name);
        activity?.SetTag("sessionkit.store", _store.Name);
        return activity;
    }
}
