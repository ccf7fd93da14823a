using SessionKit.Stores;

namespace SessionKit.Tests;

/// <summary>Runs the store conformance suite against <see cref="InMemorySessionStore"/>.</summary>
public sealed class InMemorySessionStoreConformanceTests : SessionStoreConformanceTests
{
    protected override ISessionStore CreateStore() => new InMemorySessionStore();
}
