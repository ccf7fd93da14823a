using System.Reflection;

namespace SessionKit.Tests;

/// <summary>
/// Locates the repository. The build stamps its root into the test assembly (tests/Directory.Build.props), because
/// compile-time source paths are mapped to <c>/_/</c> in CI builds and test output may live outside the tree.
/// </summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        var stamped = typeof(RepositoryPaths).Assembly
            .GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "SessionKit.RepositoryRoot")?.Value;
        var candidates = new[] { stamped, AppContext.BaseDirectory, Directory.GetCurrentDirectory() };
        foreach (var start in candidates)
        {
            var directory = start;
            for (var i = 0; i < 12 && !string.IsNullOrEmpty(directory); i++)
            {
                if (File.Exists(Path.Combine(directory, "SessionKit.sln")))
                {
                    return directory;
                }

                directory = Path.GetDirectoryName(directory);
            }
        }

        throw new InvalidOperationException($"SessionKit.sln not found above {stamped ?? "(no stamped root)"}, {AppContext.BaseDirectory} or the working directory.");
    }
}
