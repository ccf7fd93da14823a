// SessionKit quick start: the embedded in-memory store, no server needed.
// create -> state update -> get with slide -> idle expiry -> cleanup, with a 2-second idle timeout so it runs in seconds.
using Microsoft.Extensions.DependencyInjection;
using SessionKit;

var services = new ServiceCollection();
services.AddSessions(o =>
{
    o.IdleTimeout = TimeSpan.FromSeconds(2);
    o.AbsoluteTimeout = TimeSpan.FromMinutes(1);
    o.EnableBackgroundCleanup = false; // the sample sweeps by hand below
});
await using var provider = services.BuildServiceProvider();
var sessions = provider.GetRequiredService<ISessionManager>();

var session = await sessions.CreateAsync(new SessionCreateOptions { UserId = "alice", Kind = "chat" });
Console.WriteLine($"created    v{session.Version}, expires {session.ExpiresAt:HH:mm:ss.fff} (id is a credential: not printed)");

string[] cart = ["book", "pen"];
var updated = await sessions.UpdateAsync(session.Id, new SessionChanges().SetState("cart", cart).SetMetadata("client", "quickstart"));
Console.WriteLine($"updated    {updated.Status} -> v{updated.Session!.Version}, cart = [{string.Join(", ", updated.Session.GetState<string[]>("cart")!)}]");

await Task.Delay(TimeSpan.FromSeconds(1.5));
var found = await sessions.GetAsync(session.Id);
Console.WriteLine($"get        {found.Status}, slid: now expires {found.Session!.ExpiresAt:HH:mm:ss.fff}");

await Task.Delay(TimeSpan.FromSeconds(1.5));
Console.WriteLine($"get        {(await sessions.GetAsync(session.Id)).Status} (1.5 s after the slide, still inside the 2 s idle window)");

await Task.Delay(TimeSpan.FromSeconds(2.5));
Console.WriteLine($"get        {(await sessions.GetAsync(session.Id)).Status} (2.5 s idle: expired)");

var removed = await sessions.CleanupExpiredAsync();
Console.WriteLine($"cleanup    removed {removed} expired session(s)");
