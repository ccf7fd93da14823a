namespace SessionKit.Tests;

public sealed partial class SessionManagerTests
{
    [Fact]
    public async Task Logs_NeverContainSessionIds()
    {
        var logs = new CapturingLoggerProvider();
        var manager = CreateManager(o => o.EnableBackgroundCleanup = false, logs: logs);
        var session = await manager.CreateAsync();
        await manager.UpdateAsync(session.Id, new SessionChanges { ExpectedVersion = 42 }.SetMetadata("k", "v"));
        await manager.DeleteAsync(session.Id);
        var expiring = await manager.CreateAsync();
        _time.Advance(TimeSpan.FromHours(1));
        await manager.CleanupExpiredAsync();

        logs.Entries.Should().Contain(e => e.EventId.Id == 1).And.Contain(e => e.EventId.Id == 3).And.Contain(e => e.EventId.Id == 7);
        logs.Entries.Should().NotContain(e => e.AllText.Contains(session.Id, StringComparison.Ordinal) || e.AllText.Contains(expiring.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Logs_SameSessionGetsTheSameTag()
    {
        var logs = new CapturingLoggerProvider();
        var manager = CreateManager(logs: logs);
        var session = await manager.CreateAsync();
        await manager.DeleteAsync(session.Id);

        var tags = logs.Entries.Where(e => e.EventId.Id is 1 or 3).Select(e => e.Properties.Single(p => p.StartsWith("SessionTag=", StringComparison.Ordinal))).ToList();

        tags.Should().HaveCount(2);
        tags.Distinct().Should().ContainSingle();
    }

    [Fact]
    public async Task Metrics_StoreDuration_TaggedByStoreAndOperation()
    {
        var meters = new TestMeterFactory();
        var manager = CreateManager(meters: meters);
        var session = await manager.CreateAsync();
        await manager.GetAsync(session.Id);

        var histograms = meters.Histograms().Where(h => h.Name == "sessionkit.store.duration").ToList();

        histograms.Should().Contain(h => h.Tags.Contains(new KeyValuePair<string, object?>("sessionkit.operation", "create")));
        histograms.Should().Contain(h => h.Tags.Contains(new KeyValuePair<string, object?>("sessionkit.operation", "get")));
        histograms.Should().OnlyContain(h => h.Tags.Contains(new KeyValuePair<string, object?>("sessionkit.store", "memory")));
        meters.Total("sessionkit.sessions.created").Should().Be(1);
    }
}
