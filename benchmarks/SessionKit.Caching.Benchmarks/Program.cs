using BenchmarkDotNet.Running;
using SessionKit.Caching.Benchmarks;

// Starts its own redis-server (or uses SESSIONKIT_TEST_REDIS). Measured with:
// dotnet run -c Release --project benchmarks/SessionKit.Caching.Benchmarks -- --filter '*' --inProcess --launchCount 1 --warmupCount 3 --iterationCount 10
BenchmarkSwitcher.FromAssembly(typeof(L1CacheBenchmarks).Assembly).Run(args);
