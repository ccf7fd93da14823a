using System.Diagnostics.Metrics;

namespace SessionKit.Tests;

/// <summary>An <see cref="IMeterFactory"/> whose meters are isolated from other tests, plus a listener that sums counters.</summary>
public sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _totals = new(StringComparer.Ordinal);
    private readonly List<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> _doubles = [];

    public TestMeterFactory()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (_meters.Contains(instrument.Meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (_totals)
            {
                _totals[instrument.Name] = _totals.GetValueOrDefault(instrument.Name) + value;
            }
        });
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            lock (_totals)
            {
                _doubles.Add((instrument.Name, value, tags.ToArray()));
            }
        });
        _listener.Start();
    }

    public long Total(string instrument)
    {
        lock (_totals)
        {
            return _totals.GetValueOrDefault(instrument);
        }
    }

    public IReadOnlyList<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> Histograms()
    {
        lock (_totals)
        {
            return [.. _doubles];
        }
    }

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
        lock (_meters)
        {
            _meters.Add(meter);
        }

        // Instruments are created after the meter, so InstrumentPublished sees the meter in the list.
        return meter;
    }

    public void Dispose()
    {
        _listener.Dispose();
        foreach (var meter in _meters)
        {
            meter.Dispose();
        }
    }
}
