using SessionKit.Stores;

namespace SessionKit.Tests;

/// <summary>The compound-operation races on one <see cref="InMemorySessionStore"/> shared by two managers.</summary>
public sealed class InMemorySessionRaceTests : SessionRaceTests
{
    private readonly InMemorySessionStore _store = new();

    protected override bool SupportsCache => false;

    protected override ISessionStore CreateStore() => _store;
}
