namespace SessionKit;

/// <summary>Names of SessionKit's diagnostics sources, for OpenTelemetry and <see cref="System.Diagnostics.Metrics.MeterListener"/> subscriptions.</summary>
public static class SessionKitDiagnostics
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> every SessionKit instrument belongs to.</summary>
    public const string MeterName = "SessionKit";

    /// <summary>The name of the <see cref="System.Diagnostics.ActivitySource"/> SessionKit traces operations with.</summary>
    public const string ActivitySourceName = "SessionKit";
}
