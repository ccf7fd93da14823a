using System.Diagnostics;
using System.Runtime.CompilerServices;
using SessionKit.Redis.Internal;
using StackExchange.Redis;

namespace SessionKit.Redis;

public sealed partial class RedisSessionStore
{
    /// <summary>Gets the database, connecting on first use (and again after a failed connect) within the operation's time budget.</summary>
    private ValueTask<IDatabase> GetDatabaseAsync(long start, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var database = Volatile.Read(ref _database);
        return database is not null ? new(database) : ConnectAsync(start, cancellationToken);
    }

    private async ValueTask<IDatabase> ConnectAsync(long start, CancellationToken cancellationToken)
    {
        Task<IConnectionMultiplexer> connecting;
        lock (_connectLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connecting is null || _connecting.IsFaulted || _connecting.IsCanceled)
            {
                _connecting = StartConnecting();
            }

            connecting = _connecting;
        }

        var multiplexer = await WithTimeout(connecting, start, cancellationToken).ConfigureAwait(false);
        var database = multiplexer.GetDatabase();
        lock (_connectLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _database ??= database;
            return _database;
        }
    }

    private Task<IConnectionMultiplexer> StartConnecting()
    {
        if (_options.ConnectionMultiplexer is { } supplied)
        {
            return Task.FromResult(supplied);
        }

        if (_options.ConnectionMultiplexerFactory is { } factory)
        {
            return InvokeFactoryAsync(factory);
        }

        return ConnectOwnedAsync(_options.Configuration!);
    }

    private static async Task<IConnectionMultiplexer> InvokeFactoryAsync(Func<Task<IConnectionMultiplexer>> factory)
    {
        var multiplexer = await factory().ConfigureAwait(false);
        return multiplexer ?? throw new InvalidOperationException("RedisSessionStoreOptions.ConnectionMultiplexerFactory returned null.");
    }

    private async Task<IConnectionMultiplexer> ConnectOwnedAsync(string configuration)
    {
        var config = ConfigurationOptions.Parse(configuration);

        // Start (and keep running) while Redis is down; the multiplexer reconnects in the background.
        config.AbortOnConnectFail = false;

        // Fail at once while disconnected, as 1.x did, instead of queueing commands until the client's own timeout.
        config.BacklogPolicy = BacklogPolicy.FailFast;
        Log.Connecting(_logger, config.EndPoints.Count);
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(config).ConfigureAwait(false);
        lock (_connectLock)
        {
            if (!_disposed)
            {
                _owned = multiplexer;
                return multiplexer;
            }
        }

        multiplexer.Dispose();
        throw new ObjectDisposedException(nameof(RedisSessionStore));
    }

    /// <summary>
    /// Runs one store operation the way every operation runs: its time budget starts, the database is got (connecting
    /// on first use), <paramref name="call"/> issues the commands (each bounded by <c>WithTimeout</c> against the same
    /// start) and a backend failure becomes a <see cref="SessionStoreException"/> with the id scrubbed.
    /// </summary>
    /// <remarks>
    /// Callers pass a static lambda and their arguments as a value tuple, so no closure is allocated; the pooled builder
    /// reuses this method's state machine, so the get path allocates no more than it did with the steps inline.
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResult> RunAsync<TState, TResult>(string operation, string? id, TState state, RedisCall<TState, TResult> call, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            var database = await GetDatabaseAsync(start, cancellationToken).ConfigureAwait(false);
            return await call(this, database, state, start, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsBackendFailure(ex, cancellationToken))
        {
            throw Failure(operation, ex, start, id);
        }
    }

    /// <summary>The commands of one operation, given the store, the database, the caller's state and the operation's start timestamp.</summary>
    private delegate Task<TResult> RedisCall<TState, TResult>(RedisSessionStore store, IDatabase database, TState state, long start, CancellationToken cancellationToken);

    /// <summary>Awaits a pending Redis call for at most what is left of the operation timeout.</summary>
    private Task<T> WithTimeout<T>(Task<T> pending, long start, CancellationToken cancellationToken)
    {
        if (pending.IsCompleted)
        {
            return pending;
        }

        var remaining = _timeout - Stopwatch.GetElapsedTime(start);
        if (remaining <= TimeSpan.Zero)
        {
            Observe(pending);
            return Task.FromException<T>(new TimeoutException());
        }

        return Await(pending, remaining, cancellationToken);

        static async Task<T> Await(Task<T> pending, TimeSpan remaining, CancellationToken cancellationToken)
        {
            try
            {
                return await pending.WaitAsync(remaining, cancellationToken).ConfigureAwait(false);
            }
            catch when (!pending.IsCompleted)
            {
                // Abandoned: the client completes it later (or fails it); make sure nobody sees an unobserved fault.
                Observe(pending);
                throw;
            }
        }
    }

    private async Task WithTimeout(Task pending, long start, CancellationToken cancellationToken)
    {
        if (!pending.IsCompleted)
        {
            var remaining = _timeout - Stopwatch.GetElapsedTime(start);
            try
            {
                if (remaining <= TimeSpan.Zero)
                {
                    throw new TimeoutException();
                }

                await pending.WaitAsync(remaining, cancellationToken).ConfigureAwait(false);
            }
            catch when (!pending.IsCompleted)
            {
                Observe(pending);
                throw;
            }
        }

        await pending.ConfigureAwait(false);
    }

    /// <summary>Awaits index maintenance that follows a completed session write; a failure is logged, not thrown (readers and the sweep repair indexes).</summary>
    private async Task MaintainIndexesAsync(string operation, long start, Task pending, string? id = null)
    {
        try
        {
            await WithTimeout(pending, start, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var description = Describe(ex);
            Log.IndexMaintenanceFailed(_logger, operation, id is { Length: > 0 } ? description.Replace(id, "<id>", StringComparison.Ordinal) : description);
        }
    }

    private static void Observe(Task pending) =>
        pending.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>Everything a Redis call throws is a backend failure, except the caller's own cancellation and this store's expected exceptions.</summary>
    private bool IsBackendFailure(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        OperationCanceledException when cancellationToken.IsCancellationRequested => false,
        SessionStoreException or SessionStateTooLargeException or ArgumentException => false,
        ObjectDisposedException when _disposed => false,
        _ => true,
    };

    private SessionStoreException Failure(string operation, Exception exception, long start, string? id = null)
    {
        var elapsed = (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        var message = exception.GetType() == typeof(TimeoutException)
            ? $"Redis did not answer within the operation timeout of {(long)_timeout.TotalMilliseconds} ms."
            : $"{Describe(exception)} (after {elapsed} ms).";

        // Client exceptions can quote the command and its key, and a session key holds the id: keep only scrubbed text.
        if (id is not null && id.Length > 0)
        {
            message = message.Replace(id, "<id>", StringComparison.Ordinal);
        }

        return new SessionStoreException(Name, operation, message, Scrubbed(exception, id));
    }

    /// <summary>Describes a failure in one line without any key (session keys contain ids).</summary>
    private string Describe(Exception exception) => exception switch
    {
        TimeoutException when exception.GetType() == typeof(TimeoutException) => "Redis did not answer in time",
        RedisConnectionException connection => $"Redis is unreachable ({connection.FailureType}): {Scrub(connection.Message)}",
        _ => $"{exception.GetType().Name}: {Scrub(exception.Message)}",
    };

    private Exception Scrubbed(Exception exception, string? id)
    {
        var needsScrub = false;
        for (var e = exception; e is not null; e = e.InnerException)
        {
            needsScrub |= e.Message.Contains(_options.KeyPrefix, StringComparison.Ordinal)
                || (id is { Length: > 0 } && e.Message.Contains(id, StringComparison.Ordinal));
        }

        if (!needsScrub)
        {
            return exception;
        }

        var message = Scrub(exception.Message);
        if (id is { Length: > 0 })
        {
            message = message.Replace(id, "<id>", StringComparison.Ordinal);
        }

        return new RedisFailureException($"{exception.GetType().Name}: {message}");
    }

    /// <summary>Cuts every quoted key of this store down to its prefix and type tag.</summary>
    private string Scrub(string message)
    {
        var prefix = _options.KeyPrefix;
        var at = message.IndexOf(prefix, StringComparison.Ordinal);
        if (at < 0)
        {
            return message;
        }

        var builder = new System.Text.StringBuilder(message.Length);
        var from = 0;
        while (at >= 0)
        {
            builder.Append(message, from, at - from).Append(prefix).Append("<key>");
            var end = at + prefix.Length;
            while (end < message.Length && !char.IsWhiteSpace(message[end]) && message[end] != ',')
            {
                end++;
            }

            from = end;
            at = message.IndexOf(prefix, from, StringComparison.Ordinal);
        }

        return builder.Append(message, from, message.Length - from).ToString();
    }
}
