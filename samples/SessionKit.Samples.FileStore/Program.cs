// SessionKit on the file store: sessions survive a restart. Run it twice; the second run finds the first run's session.
//   dotnet run --project samples/SessionKit.Samples.FileStore -- /tmp/sessionkit-demo
using Microsoft.Extensions.DependencyInjection;
using SessionKit;

var directory = Path.GetFullPath(args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "sessionkit-demo"));
var services = new ServiceCollection();
services.AddSessions(o => o.IdleTimeout = TimeSpan.FromHours(1)).UseFileStore(o => o.Directory = directory);
await using var provider = services.BuildServiceProvider();
var sessions = provider.GetRequiredService<ISessionManager>();

// A real client keeps the id in a cookie or header; the sample keeps it in a 0600 file beside the store.
var idFile = Path.Combine(directory, "demo-client.id");
var id = File.Exists(idFile) ? File.ReadAllText(idFile) : null;
var found = id is null ? SessionLookupResult.NotFound : await sessions.GetAsync(id);

if (found.Session is { } session)
{
    var visits = session.GetState<int>("visits") + 1;
    var updated = await sessions.UpdateAsync(session.Id, new SessionChanges().SetState("visits", visits));
    Console.WriteLine($"restored   from {directory}: {found.Status}, created {session.CreatedAt:HH:mm:ss}, visit {visits}, now v{updated.Session!.Version}");
}
else
{
    var created = await sessions.CreateAsync(new SessionCreateOptions { UserId = "alice" }.WithState("visits", 1));
    File.WriteAllText(idFile, created.Id);
    if (!OperatingSystem.IsWindows())
    {
        File.SetUnixFileMode(idFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    Console.WriteLine($"created    in {directory}: v{created.Version}, expires {created.ExpiresAt:HH:mm:ss}. Run again: the session survives the restart.");
}
