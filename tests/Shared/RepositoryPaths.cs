using System.Runtime.CompilerServices;

namespace SessionKit.Tests;

/// <summary>Locates the repository from this source file's compile-time path (test output may live outside the tree).</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot([CallerFilePath] string sourceFile = "")
    {
        var directory = Path.GetDirectoryName(sourceFile);
        for (var i = 0; i < 10 && directory is not null; i++)
        {
            if (File.Exists(Path.Combine(directory, "SessionKit.sln")))
            {
                return directory;
            }

            directory = Path.GetDirectoryName(directory);
        }

        throw new InvalidOperationException($"SessionKit.sln not found above {sourceFile}.");
    }
}
