using SessionKit.Stores;

namespace SessionKit.Tests.Security;

/// <summary>The hijack matrix, rotation and resurrection races on <see cref="FileSessionStore"/> in a temporary directory.</summary>
public sealed class FileSessionSecurityTests : SessionSecurityConformanceTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "sessionkit-security-" + Guid.NewGuid().ToString("N"));

    // Durability is not what these races test; skipping fsync keeps 1,000 iterations of create/delete/update fast.
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
