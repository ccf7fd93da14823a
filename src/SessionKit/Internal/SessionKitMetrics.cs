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
        CacheHits = meter.CreateCounter<long>("sessionkit.cache.hits", "{lookup}", "Lookups served by the node-local session cache (L1).");
        CacheMisses = meter.CreateCounter<long>("sessionkit.cache.misses", "{lookup}", "Lookups the node-local session cache sent to the store (joined loads included).");
        CacheInvalidations = meter.CreateCounter<long>("sessionkit.cache.invalidations", "{message}", "Backplane invalidations received from other nodes.");
        RevocationDuration = meter.CreateHistogram<double>("sessionkit.cache.revocation.duration", "s", "How long a strict revocation waited until no node could serve the revoked session.");
        Restored = meter.CreateCounter<long>("sessionkit.sessions.restored", "{session}", "Live session objects rebuilt from the store by an activator.");
        LiveDisposed = meter.CreateCounter<long>("sessionkit.live.disposed", "{session}", "Live session objects disposed (eviction, delete, rotation, expiry).");
        TouchesDeferred = meter.CreateCounter<long>("sessionkit.touches.deferred", "{touch}", "Slides recorded for write-behind instead of written at once.");
        TouchesFlushed = meter.CreateCounter<long>("sessionkit.touches.flushed", "{touch}", "Write-behind slides persisted to the store.");
        BroadcastDelivered = meter.CreateCounter<long>("sessionkit.broadcast.delivered", "{notification}", "Notifications handed to local subscribers.");
        BroadcastDropped = meter.CreateCounter<long>("sessionkit.broadcast.subscribers_dropped", "{subscriber}", "Slow broadcast subscribers dropped because their buffer was full.");
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

    public Counter<long> CacheHits { get; }

    public Counter<long> CacheMisses { get; }

    public Counter<long> CacheInvalidations { get; }

    public Histogram<double> RevocationDuration { get; }

    public Counter<long> Restored { get; }

    public Counter<long> LiveDisposed { get; }

    public Counter<long> TouchesDeferred { get; }

    public Counter<long> TouchesFlushed { get; }

    public Counter<long> BroadcastDelivered { get; }

    public Counter<long> BroadcastDropped { get; }

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
