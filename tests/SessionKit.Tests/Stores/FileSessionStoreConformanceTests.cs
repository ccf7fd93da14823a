using SessionKit.Stores;

namespace SessionKit.Tests;

/// <summary>Runs the store conformance suite against <see cref="FileSessionStore"/>, each test in a fresh temporary directory.</summary>
public sealed class FileSessionStoreConformanceTests : SessionStoreConformanceTests
{
    private readonly List<string> _directories = [];

    protected override ISessionStore CreateStore()
    {
        var directory = Path.Combine(Path.GetTempPath(), "sessionkit-conformance-" + Guid.NewGuid().ToString("N"));
        _directories.Add(directory);
        return new FileSessionStore(new FileSessionStoreOptions { Directory = directory });
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var directory in _directories)
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
