namespace SessionKit.Benchmarks;

internal static class ValueTaskExtensions
{
    /// <summary>Returns the result of a value task that completed synchronously (the in-memory paths), else blocks.</summary>
    public static T Sync<T>(this ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
}
