using SessionKit.Stores;

namespace SessionKit.Tests;

/// <summary>The compound-operation races on one directory, each manager with its own <see cref="FileSessionStore"/> (as separate processes would).</summary>
public sealed class FileSessionRaceTests : SessionRaceTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "sessionkit-races-" + Guid.NewGuid().ToString("N"));

    // Durability is not what these races test; skipping fsync keeps hundreds of rounds fast.
    protected override ISessionStore CreateStore() => new FileSessionStore(new FileSessionStoreOptions { Directory = _directory, FlushToDisk = false });

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
