using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace SessionKit.Tests;

/// <summary>
/// A logger factory over <see cref="FakeLoggerProvider"/> that records every message at every level, passed where a
/// component takes an <see cref="ILoggerFactory"/>; <see cref="Entries"/> shapes the records for the tests' assertions.
/// </summary>
public sealed class CapturingLoggerProvider : ILoggerProvider, ILoggerFactory
{
    private readonly FakeLoggerProvider _inner = new();

    public IReadOnlyList<CapturedLog> Entries =>
        [.. _inner.Collector.GetSnapshot().Select(static r => new CapturedLog(
            r.Category ?? string.Empty,
            r.Level,
            r.Id,
            r.Message,
            r.Exception,
            [.. (r.StructuredState ?? []).Select(static p => $"{p.Key}={p.Value}")]))];

    public ILogger CreateLogger(string categoryName) => _inner.CreateLogger(categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose() => _inner.Dispose();
}

/// <summary>One captured log entry.</summary>
public sealed record CapturedLog(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception, IReadOnlyList<string> Properties)
{
    /// <summary>Returns everything the entry would put in a log sink, for "never contains" assertions.</summary>
    public string AllText => $"{Message} {Exception} {string.Join(' ', Properties)}";
}
