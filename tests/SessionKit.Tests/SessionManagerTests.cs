using SessionKit.Stores;

namespace SessionKit.Tests;

public sealed partial class SessionManagerTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Start = ManagerHarness.Start;

    private readonly ManagerHarness _harness = new();
    private readonly ManualTimeProvider _time;
    private readonly InMemorySessionStore _memory;
    private readonly CountingSessionStore _store;

    public SessionManagerTests()
    {
        _time = _harness.Time;
        _memory = _harness.Memory;
        _store = new CountingSessionStore(_memory);
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    private SessionManager CreateManager(Action<SessionKitOptions>? configure = null, ISessionStore? store = null, TestMeterFactory? meters = null, CapturingLoggerProvider? logs = null) =>
        _harness.Create(store ?? _store, configure, logs, meters);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(10);
        }
    }
}
