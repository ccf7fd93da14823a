using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SessionKit.Internal;

/// <summary>SessionKit's instruments. Tags are low-cardinality only: never ids, never user ids.</summary>
internal sealed class SessionKitMetrics
{
    private static readonly Meter SharedMeter = new(SessionKitDiagnostics.MeterName);

    public SessionKitMetrics(IMeterFactory? meterFactory)
    {
        var meter = meterFactory?.Create(SessionKitDiagnostics.MeterName) ?? SharedMeter;
        Created = meter.CreateCounter<long>("sessionkit.sessions.created", "{session}", "Sessions created.");
        Deleted = meter.CreateCounter<long>("sessionkit.sessions.deleted", "{session}", "Sessions deleted by the application (log out).");
        Expired = meter.CreateCounter<long>("sessionkit.sessions.expired", "{session}", "Expired sessions removed by cleanup.");
        Evicted = meter.CreateCounter<long>("sessionkit.sessions.evicted", "{session}", "Sessions evicted to keep a user within MaxSessionsPerUser.");
        LimitRejected = meter.CreateCounter<long>("sessionkit.sessions.limit_rejected", "{session}", "Creations refused because the user was at MaxSessionsPerUser.");
        Rejected = meter.CreateCounter<long>("sessionkit.sessions.rejected", "{access}", "Accesses rejected by a hijack-prevention guard (tagged by guard).");
        Flagged = meter.CreateCounter<long>("sessionkit.sessions.flagged", "{access}", "Guard mismatches logged but allowed (log-only mode, tagged by guard).");
        Rotated = meter.CreateCounter<long>("sessionkit.sessions.rotated", "{session}", "Sessions given a new id.");
        Conflicts = meter.CreateCounter<long>("sessionkit.updates.conflicts", "{update}", "Compare-and-set updates refused because the version had moved.");
        StoreDuration = meter.CreateHistogram<double>("sessionkit.store.duration", "s", "Duration of session store operations.");
    }

    public Counter<long> Created { get; }

    public Counter<long> Deleted { get; }

    public Counter<long> Expired { get; }

    public Counter<long> Evicted { get; }

    public Counter<long> LimitRejected { get; }

    public Counter<long> Rejected { get; }

    public Counter<long> Flagged { get; }

    public Counter<long> Rotated { get; }

    public Counter<long> Conflicts { get; }

    public Histogram<double> StoreDuration { get; }

    public static ActivitySource ActivitySource { get; } = new(SessionKitDiagnostics.ActivitySourceName);

    public void RecordStoreDuration(TimeProvider time, long startTimestamp, string store, string operation)
    {
        if (startTimestamp == 0)
        {
            return;
        }

        StoreDuration.Record(
            time.GetElapsedTime(startTimestamp).TotalSeconds,
            new KeyValuePair<string, object?>("sessionkit.store", store),
            new KeyValuePair<string, object?>("sessionkit.operation", operation));
    }

    /// <summary>Returns a start timestamp when the duration histogram has listeners, else 0 (so hot paths skip the clock read).</summary>
    public long StartTimestamp(TimeProvider time) => StoreDuration.Enabled ? Math.Max(1, time.GetTimestamp()) : 0;
}
