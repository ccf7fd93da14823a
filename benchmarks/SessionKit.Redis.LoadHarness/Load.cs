using System.Diagnostics;

/// <summary>Closed-loop load: a number of callers, each awaiting one access at a time on a random pool index.</summary>
internal static class Load
{
    /// <summary>Runs the callers for the duration and returns how many accesses completed (each started one is awaited).</summary>
    public static async Task<long> RunAsync(Func<int, Task> access, int callers, TimeSpan duration, int poolSize)
    {
        long total = 0;
        var stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var loops = Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            long done = 0;
            while (Stopwatch.GetTimestamp() < stopAt)
            {
                await access(random.Next(poolSize));
                done++;
            }

            Interlocked.Add(ref total, done);
        }));
        await Task.WhenAll(loops);
        return total;
    }

    /// <summary>Warms up for 300 ms, then returns the accesses per second of all callers over the duration.</summary>
    public static async Task<double> MeasureAsync(Func<int, Task> access, int callers, TimeSpan duration, int poolSize)
    {
        await RunAsync(access, callers, TimeSpan.FromMilliseconds(300), poolSize);
        var count = await RunAsync(access, callers, duration, poolSize);
        return count / duration.TotalSeconds;
    }
}
