using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionKit.Security;

namespace SessionKit.Tests;

/// <summary>
/// The hijack matrix, rotation with grace, anti-resurrection races and lifecycle events, run through
/// <see cref="SessionManager"/> against every store.
/// </summary>
public abstract partial class SessionSecurityConformanceTests : IAsyncLifetime
{
    private static readonly byte[] KeyA = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] KeyB = RandomNumberGenerator.GetBytes(32);
    private static readonly SessionAccessContext Alice = new() { Credential = "api-key-alice" };
    private static readonly SessionAccessContext Mallory = new() { Credential = "api-key-mallory" };

    private readonly ManagerHarness _harness = new(DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));

    protected ManualTimeProvider Time => _harness.Time;

    protected ISessionStore Store { get; private set; } = null!;

    protected CapturingLoggerProvider Logs { get; } = new();

    protected TestMeterFactory Meters { get; } = new();

    protected RecordingHandler Events { get; } = new();

    /// <summary>Returns a fresh, empty, isolated store.</summary>
    protected abstract ISessionStore CreateStore();

    public virtual Task InitializeAsync()
    {
        Store = CreateStore();
        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync()
    {
        await _harness.DisposeAsync();

        switch (Store)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }

        Meters.Dispose();
    }

    protected SessionManager Manager(Action<SessionKitOptions>? configure = null, params ISessionGuard[] guards) =>
        _harness.Create(
            Store,
            options =>
            {
                options.EnableBackgroundCleanup = false;
                configure?.Invoke(options);
            },
            Logs,
            Meters,
            guards,
            [Events, new ThrowingHandler()]);

    protected static CredentialBindingGuard Credential(byte[]? key = null, params byte[][] previous)
    {
        var options = new CredentialBindingOptions { Key = key ?? KeyA };
        foreach (var p in previous)
        {
            options.PreviousKeys.Add(p);
        }

        return new CredentialBindingGuard(Options.Create(options));
    }

    protected static ClientBindingGuard Client(ClientBindingMode mode) =>
        new(Options.Create(new ClientBindingOptions { Mode = mode }));

    // ---- lifecycle events ---------------------------------------------------------------------------------------

    [Fact]
    public async Task Events_CreatedDeletedExpiredRotated_AreDelivered_AndAThrowingHandlerIsLogged()
    {
        var manager = Manager();
        var deleted = await manager.CreateAsync(new SessionCreateOptions { UserId = "u" });
        var expiring = await manager.CreateAsync(new SessionCreateOptions { IdleTimeout = TimeSpan.FromMinutes(1) });
        var rotating = await manager.CreateAsync();
        await manager.DeleteAsync(deleted.Id);
        await manager.RotateAsync(rotating.Id);
        Time.Advance(TimeSpan.FromMinutes(2));

        await manager.CleanupExpiredAsync();

        Events.Of(SessionEventKind.Created).Select(e => e.SessionId).Should().BeEquivalentTo(deleted.Id, expiring.Id, rotating.Id);
        Events.Of(SessionEventKind.Deleted).Should().ContainSingle().Which.UserId.Should().Be("u");
        Events.Of(SessionEventKind.Expired).Select(e => e.SessionId).Should().Contain(expiring.Id).And.NotContain(rotating.Id);
        Events.Of(SessionEventKind.Rotated).Should().ContainSingle();
        Logs.Entries.Where(e => e.EventId.Id == 13).Should().HaveCountGreaterThanOrEqualTo(4, "the throwing handler fails on every event and is only logged");
    }

    /// <summary>Records every event.</summary>
    protected sealed class RecordingHandler : ISessionLifecycleHandler
    {
        private readonly List<SessionEvent> _events = [];

        public IReadOnlyList<SessionEvent> Of(SessionEventKind kind)
        {
            lock (_events)
            {
                return [.. _events.Where(e => e.Kind == kind)];
            }
        }

        public ValueTask HandleAsync(SessionEvent sessionEvent, CancellationToken cancellationToken)
        {
            lock (_events)
            {
                _events.Add(sessionEvent);
            }

            return ValueTask.CompletedTask;
        }
    }

    private sealed class ThrowingHandler : ISessionLifecycleHandler
    {
        public ValueTask HandleAsync(SessionEvent sessionEvent, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("handler bug");
    }
}
