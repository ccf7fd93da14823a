using System.Reflection;

namespace SessionKit.Tests.Conventions;

/// <summary>The package conventions for SessionKit (log events 1–99, stores 100–199), plus the guards' constant-time comparison.</summary>
public sealed class ConventionTests : PackageConventionTests
{
    protected override Assembly Library { get; } = typeof(SessionManager).Assembly;

    protected override string TestProject => "SessionKit.Tests";

    protected override (int Min, int Max) EventIdRange(Type owner) =>
        owner.Namespace == "SessionKit.Stores" ? (100, 199) : (1, 99);

    [Fact]
    public void Guards_CompareBindingDataOnlyInConstantTime()
    {
        var security = Path.Combine(RepositoryPaths.Root, "src", "SessionKit", "Security");
        var hashing = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "src", "SessionKit", "Internal", "BindingHash.cs"));

        hashing.Should().Contain("CryptographicOperations.FixedTimeEquals(");
        foreach (var guard in new[] { "CredentialBindingGuard.cs", "IdentityBindingGuard.cs", "ClientBindingGuard.cs" })
        {
            var source = File.ReadAllText(Path.Combine(security, guard));
            source.Should().Contain("FixedTimeEqualsBase64(", $"{guard} compares hashes through the constant-time helper");
            source.Should().NotContain("SequenceEqual").And.NotMatchRegex(@"(stored|Mac|mac|network|userAgent)\s*==\s*", $"{guard} never compares secrets with ==");
        }
    }
}
