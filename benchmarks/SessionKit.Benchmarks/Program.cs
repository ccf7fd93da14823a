using BenchmarkDotNet.Running;
using SessionKit.Benchmarks;

// `memory` measures the in-memory store's footprint over 1,000,000 sessions; anything else goes to BenchmarkDotNet.
if (args is ["memory", ..])
{
    MemoryFootprint.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
