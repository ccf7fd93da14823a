using SessionKit.Stores;

namespace SessionKit.Tests.Security;

/// <summary>The hijack matrix, rotation and resurrection races on <see cref="InMemorySessionStore"/>.</summary>
public sealed class InMemorySessionSecurityTests : SessionSecurityConformanceTests
{
    protected override ISessionStore CreateStore() => new InMemorySessionStore();
}
