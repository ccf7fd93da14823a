using BenchmarkDotNet.Running;
using SessionKit.Caching.Benchmarks;

// Both modes start their own redis-server (or use SESSIONKIT_TEST_REDIS).
// L1 hit against a Redis get (BenchmarkDotNet):
//   dotnet run -c Release --project benchmarks/SessionKit.Caching.Benchmarks -- --filter '*' --inProcess --launchCount 1 --warmupCount 3 --iterationCount 10
// Invalidation latency between two nodes, beside a raw pub/sub round trip:
//   dotnet run -c Release --project benchmarks/SessionKit.Caching.Benchmarks -- latency
// Strict revocation across 2 and 3 nodes (stale gets, delete latency beside eventual mode and an uncached delete),
// then a strict L1 hit beside an uncached manager get:
//   dotnet run -c Release --project benchmarks/SessionKit.Caching.Benchmarks -- revocation [--rounds 10000] [--nodes 2,3] [--callers 16] [--duration 2]
if (args is ["latency"])
{
    return await InvalidationLatency.RunAsync();
}

if (args is ["revocation", ..])
{
    return await StrictRevocation.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(L1CacheBenchmarks).Assembly).Run(args);
return 0;
