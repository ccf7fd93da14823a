using BenchmarkDotNet.Running;
using SessionKit.Caching.Benchmarks;

// Both modes start their own redis-server (or use SESSIONKIT_TEST_REDIS).
// L1 hit against a Redis get (BenchmarkDotNet):
//   dotnet run -c Release --project benchmarks/SessionKit.Caching.Benchmarks -- --filter '*' --inProcess --launchCount 1 --warmupCount 3 --iterationCount 10
// Invalidation latency between two nodes, beside a raw pub/sub round trip:
//   dotnet run -c Release --project benchmarks/SessionKit.Caching.Benchmarks -- latency
if (args is ["latency"])
{
    return await InvalidationLatency.RunAsync();
}

BenchmarkSwitcher.FromAssembly(typeof(L1CacheBenchmarks).Assembly).Run(args);
return 0;
