// Load harness for the Redis store. Every figure is printed beside a baseline measured in the same run over the same
// multiplexer, so the ratios hold on a busy machine even where the absolute figures do not.
//   reads:  the manager's get-with-slide against ASP.NET Core's HMGET+EXPIRE pattern and a raw HGETALL (ReadThroughput).
//   writes: the manager's update, create and get against the ASP.NET Core Session peer (the real RedisCache of
//           Microsoft.Extensions.Caching.StackExchangeRedis) and a raw HGETALL, with commands and Redis CPU per
//           operation from INFO commandstats (WriteCost).
//
//   dotnet run -c Release --project benchmarks/SessionKit.Redis.LoadHarness -- [reads|writes] [--duration S] [--rounds N] [--callers 1,16,64] [--redis 127.0.0.1:6379]
// Without a mode it runs both. Without --redis (or SESSIONKIT_TEST_REDIS) it starts its own redis-server.
using System.Reflection;
using StackExchange.Redis;

var settings = Settings.Parse(args);
await using var server = await RedisProcess.StartAsync(settings.Redis);

// Baselines and the store share this one multiplexer, so they run under the same client conditions.
var multiplexer = await ConnectionMultiplexer.ConnectAsync($"{server.EndPoint},allowAdmin=true,abortConnect=false");
var sent = new SentCommands(multiplexer);
Console.WriteLine($"Redis {server.Version} on {server.EndPoint}; StackExchange.Redis {ClientVersion()}; {Environment.ProcessorCount} CPUs; .NET {Environment.Version}");
Console.WriteLine($"Load average before: {LoadAverage()} (client, server and anything else share these CPUs)");
Console.WriteLine();

if (settings.Mode is HarnessMode.All or HarnessMode.Reads)
{
    await ReadThroughput.RunAsync(server, multiplexer, sent, settings);
}

if (settings.Mode is HarnessMode.All or HarnessMode.Writes)
{
    await WriteCost.RunAsync(multiplexer, sent, settings);
}

Console.WriteLine($"Load average after: {LoadAverage()}");
await multiplexer.CloseAsync();
return 0;

// The assembly version is 2.0.0.0 for every 2.x; the informational version names the package.
static string ClientVersion() =>
    typeof(IDatabase).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "?";

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
