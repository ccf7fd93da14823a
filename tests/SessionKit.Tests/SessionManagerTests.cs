using System.Text.Json;
using Microsoft.Extensions.Options;
using SessionKit.Security;
using SessionKit.Stores;

namespace SessionKit.Tests;

public sealed partial class SessionManagerTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly ManualTimeProvider _time = new(Start);
    private readonly InMemorySessionStore _memory = new();
    private readonly CountingSessionStore _store;
    private readonly List<SessionManager> _managers = [];

    public SessionManagerTests()
    {
        _store = new CountingSessionStore(_memory);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var manager in _managers)
        {
            await manager.DisposeAsync();
        }
    }

    private SessionManager CreateManager(Action<SessionKitOptions>? configure = null, ISessionStore? store = null, TestMeterFactory? meters = null, CapturingLoggerProvider? logs = null)
    {
        var options = new SessionKitOptions();
        configure?.Invoke(options);
        var manager = new SessionManager(store ?? _store, Options.Create(options), _time, logs, meters);
        _managers.Add(manager);
        return manager;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(10);
        }
    }
}
