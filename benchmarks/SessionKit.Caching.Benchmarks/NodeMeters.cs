using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace SessionKit.Caching.Benchmarks;

/// <summary>
/// One node's meters: the manager creates its instruments through this factory, so a listener can tell the nodes
/// of one process apart (by the meter's scope) and count each node's L1 hits and misses and its revocation waits.
/// </summary>
internal sealed class NodeMeters : IMeterFactory
{
    private readonly List<Meter> _meters = [];
    private long _hits;
    private long _misses;

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Gets the strict revocation waits this node recorded (sessionkit.cache.revocation.duration), in ms.</summary>
    public ConcurrentQueue<double> RevocationMilliseconds { get; } = new();

    public Meter Create(MeterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Scope = this;
        var meter = new Meter(options);
        lock (_meters)
        {
            _meters.Add(meter);
        }

        return meter;
    }

    public void Dispose()
    {
        lock (_meters)
        {
            _meters.ForEach(static m => m.Dispose());
            _meters.Clear();
        }
    }

    /// <summary>Starts a listener that routes every node's cache instruments to that node's counters.</summary>
    public static MeterListener Listen()
    {
        var listener = new MeterListener
        {
            InstrumentPublished = static (instrument, listener) =>
            {
                if (instrument.Meter.Scope is NodeMeters node && instrument.Name is "sessionkit.cache.hits" or "sessionkit.cache.misses" or "sessionkit.cache.revocation.duration")
                {
                    listener.EnableMeasurementEvents(instrument, node);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>(static (instrument, value, _, state) =>
        {
            var node = (NodeMeters)state!;
            if (instrument.Name == "sessionkit.cache.hits")
            {
                Interlocked.Add(ref node._hits, value);
            }
            else
            {
                Interlocked.Add(ref node._misses, value);
            }
        });
        listener.SetMeasurementEventCallback<double>(static (_, value, _, state) => ((NodeMeters)state!).RevocationMilliseconds.Enqueue(value * 1000));
        listener.Start();
        return listener;
    }
}
