// SessionKit on Redis: two "nodes" (two service providers, as two processes would be) share sessions through one Redis.
// Start a server first:  redis-server --port 6379 --save '' --appendonly no   (or set SESSIONKIT_REDIS=host:port)
using Microsoft.Extensions.DependencyInjection;
using SessionKit;

var redis = Environment.GetEnvironmentVariable("SESSIONKIT_REDIS") ?? "localhost:6379";
await using var nodeA = Node(redis);
await using var nodeB = Node(redis);
var a = nodeA.GetRequiredService<ISessionManager>();
var b = nodeB.GetRequiredService<ISessionManager>();

var session = await a.CreateAsync(new SessionCreateOptions { UserId = "alice", Kind = "chat" });
Console.WriteLine($"A created   v{session.Version}, expires {session.ExpiresAt:HH:mm:ss} (the id is a credential: not printed)");

var seen = await b.GetAsync(session.Id);
Console.WriteLine($"B get       {seen.Status}, user {seen.Session?.UserId}");

string[] cart = ["book", "pen"];
var updated = await b.UpdateAsync(session.Id, new SessionChanges().SetState("cart", cart));
Console.WriteLine($"B update    {updated.Status} -> v{updated.Session?.Version}");
Console.WriteLine($"A get       cart = [{string.Join(", ", (await a.GetAsync(session.Id)).Session!.GetState<string[]>("cart")!)}]");

var conflict = await a.UpdateAsync(session.Id, new SessionChanges { ExpectedVersion = 1 }.SetMetadata("stale", "write"));
Console.WriteLine($"A update    expecting v1: {conflict.Status} (current v{conflict.CurrentVersion})");

Console.WriteLine($"A delete    {await a.DeleteAsync(session.Id)}; B get: {(await b.GetAsync(session.Id)).Status}");

static ServiceProvider Node(string redis)
{
    var services = new ServiceCollection();
    services.AddSessions().UseRedisStore(o => o.Configuration = redis);
    return services.BuildServiceProvider();
}
