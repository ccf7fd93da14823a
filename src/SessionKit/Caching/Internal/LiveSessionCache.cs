using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionKit.Internal;

namespace SessionKit.Caching;

/// <summary>
/// The node's live objects per session (see <see cref="ILiveSessionCache{T}"/>). A hit is valid only because the
/// manager found the session on this access — through its backplane-invalidated cache or the store — never because
/// per-node state matches. Every removal is identity-checked, so only the object that left is disposed, never a newer
/// one that replaced it; an activation that loses a race is disposed and the winner kept.
/// </summary>
/// <typeparam name="T">The live object's type.</typeparam>
internal sealed class LiveSessionCache<T> : ILiveSessionCache<T>, IAsyncDisposable
    where T : class
{
    private readonly ISessionManager _manager;
    private readonly SessionCaching _caching;
    private readonly ISessionActivator<T> _activator;
    private readonly LiveSessionOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Activation> _activations = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposing = new();
    private readonly ConcurrentDictionary<Task, byte> _disposals = new();
    private readonly Lock _evictLock = new();
    private int _disposed;

    /// <summary>Initializes a new instance of the <see cref="LiveSessionCache{T}"/> class.</summary>
    /// <param name="manager">The manager every access goes through.</param>
    /// <param name="caching">The manager's restore-on-miss component, whose change feed ends live objects.</param>
    /// <param name="activator">Builds live objects.</param>
    /// <param name="options">The options; <see langword="null"/> for defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public LiveSessionCache(ISessionManager manager, SessionCaching caching, ISessionActivator<T> activator, IOptions<LiveSessionOptions>? options = null)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(caching);
        ArgumentNullException.ThrowIfNull(activator);
        _manager = manager;
        _caching = caching;
        _activator = activator;
        _options = options?.Value ?? new LiveSessionOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.Capacity, "LiveSessionOptions.Capacity");
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.ActivationTimeout, TimeSpan.Zero, "LiveSessionOptions.ActivationTimeout");
        _logger = caching.Logger;
        caching.Changed += OnSessionChanged;
    }

    /// <inheritdoc />
    public int Count => _entries.Count;

    /// <inheritdoc />
    public async ValueTask<LiveSessionLookup<T>> GetAsync(string id, SessionAccessContext? context = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var lookup = await _manager.GetAsync(id, context, cancellationToken).ConfigureAwait(false);
        if (lookup.Status == SessionLookupStatus.NotFound)
        {
            Remove(id, "not found");
            return LiveSessionLookup<T>.NotFound;
        }

        if (!lookup.IsFound)
        {
            // Rejected: this caller may not use the session; its live object stays for the legitimate owner.
            return LiveSessionLookup<T>.Rejected;
        }

        // After a rotation the old id forwards to the new session: the live object belongs to the session's id.
        var session = lookup.Session!;
        var now = _caching.TimeProvider.GetTimestamp();
        if (_entries.TryGetValue(session.Id, out var entry))
        {
            entry.LastUsed = now;
            return LiveSessionLookup<T>.Found(new LiveSession<T>(session, entry.Value));
        }

        var activation = Activate(session);
        var activated = await activation.WaitAsync(cancellationToken).ConfigureAwait(false);
        activated.LastUsed = now;
        return LiveSessionLookup<T>.Found(new LiveSession<T>(session, activated.Value));
    }

    /// <summary>Disposes every live object and stops following session changes.</summary>
    /// <returns>A task that completes when every live object is disposed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _caching.Changed -= OnSessionChanged;
        await _disposing.CancelAsync().ConfigureAwait(false);
        foreach (var (id, entry) in _entries)
        {
            if (_entries.TryRemove(KeyValuePair.Create(id, entry)))
            {
                await DisposeValueAsync(entry, "cache disposed").ConfigureAwait(false);
            }
        }

        await Task.WhenAll(_disposals.Keys).ConfigureAwait(false);
        _disposing.Dispose();
    }

    private Task<Entry> Activate(Session session)
    {
        Activation? mine = null;
        while (true)
        {
            if (_activations.TryGetValue(session.Id, out var running))
            {
                return running.Completion.Task;
            }

            mine ??= new Activation();
            if (_activations.TryAdd(session.Id, mine))
            {
                break;
            }
        }

        // An activation may have finished between the caller's miss and this registration (it adds its object, then
        // leaves the activations): use that object rather than activating the same session again.
        if (_entries.TryGetValue(session.Id, out var existing))
        {
            _activations.TryRemove(KeyValuePair.Create(session.Id, mine));
            mine.Completion.TrySetResult(existing);
            return mine.Completion.Task;
        }

        _ = RunActivationAsync(mine, session);
        return mine.Completion.Task;
    }

    private async Task RunActivationAsync(Activation activation, Session session)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_disposing.Token);
            timeout.CancelAfter(_options.ActivationTimeout);
            var value = await _activator.ActivateAsync(session, timeout.Token).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"{_activator.GetType().Name}.ActivateAsync returned null.");
            _caching.Metrics.Restored.Add(1);
            var created = new Entry(value) { LastUsed = _caching.TimeProvider.GetTimestamp() };
            var entry = _entries.GetOrAdd(session.Id, created);
            if (!ReferenceEquals(entry, created))
            {
                // Lost a race with another activation that got in first: keep the winner, dispose ours.
                Track(DisposeValueAsync(created, "lost an activation race"));
            }
            else if (activation.Ended || Volatile.Read(ref _disposed) != 0)
            {
                // The session ended while it was being activated: never keep an object for it.
                Remove(session.Id, entry, "ended during activation");
            }
            else
            {
                if (_logger.IsEnabled(LogLevel.Debug))
                {
                    SessionCaching.Log.LiveSessionActivated(_logger, SessionIdTagger.Tag(session.Id));
                }

                EvictBeyondCapacity();
            }

            activation.Completion.TrySetResult(entry);
        }
        catch (Exception ex)
        {
            SessionCaching.Log.LiveSessionActivationFailed(_logger, ex);
            activation.Completion.TrySetException(ex);
        }
        finally
        {
            _activations.TryRemove(KeyValuePair.Create(session.Id, activation));
        }
    }

    private void OnSessionChanged(SessionBackplaneMessage message)
    {
        if (message.IsTerminal && message.SessionId is { } id)
        {
            if (_activations.TryGetValue(id, out var activation))
            {
                activation.Ended = true;
            }

            Remove(id, message.Action switch
            {
                SessionBackplaneAction.Rotated => "rotated",
                SessionBackplaneAction.Expired => "expired",
                _ => "deleted",
            });
        }
    }

    private void Remove(string id, string reason)
    {
        if (_entries.TryGetValue(id, out var entry))
        {
            Remove(id, entry, reason);
        }
    }

    private void Remove(string id, Entry entry, string reason)
    {
        // Identity-checked: only this object leaves (and is disposed), never one that replaced it meanwhile.
        if (_entries.TryRemove(KeyValuePair.Create(id, entry)))
        {
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                SessionCaching.Log.LiveSessionDisposed(_logger, SessionIdTagger.Tag(id), reason);
            }

            Track(DisposeValueAsync(entry, reason));
        }
    }

    private void EvictBeyondCapacity()
    {
        while (_entries.Count > _options.Capacity && _evictLock.TryEnter())
        {
            try
            {
                KeyValuePair<string, Entry>? oldest = null;
                foreach (var pair in _entries)
                {
                    if (oldest is null || pair.Value.LastUsed < oldest.Value.Value.LastUsed)
                    {
                        oldest = pair;
                    }
                }

                if (oldest is { } victim)
                {
                    Remove(victim.Key, victim.Value, "evicted (least recently used)");
                }
            }
            finally
            {
                _evictLock.Exit();
            }
        }
    }

    private void Track(Task disposal)
    {
        if (!disposal.IsCompleted)
        {
            _disposals.TryAdd(disposal, 0);
            disposal.ContinueWith(t => _disposals.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task DisposeValueAsync(Entry entry, string reason)
    {
        if (Interlocked.Exchange(ref entry.Disposed, 1) != 0)
        {
            return;
        }

        try
        {
            switch (entry.Value)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }

            _caching.Metrics.LiveDisposed.Add(1);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            SessionCaching.Log.LiveSessionDisposeFailed(_logger, reason, ex);
        }
    }

    private sealed class Entry(T value)
    {
        public T Value { get; } = value;

        public long LastUsed { get; set; }

        public int Disposed;
    }

    private sealed class Activation
    {
        public TaskCompletionSource<Entry> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public volatile bool Ended;
    }
}
