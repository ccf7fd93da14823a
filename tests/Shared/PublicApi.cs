using System.Reflection;
using PublicApiGenerator;

namespace SessionKit.Tests;

/// <summary>Renders an assembly's public surface as C#-like text (PublicApiGenerator), for an approval test.</summary>
public static class PublicApi
{
    private static readonly ApiGeneratorOptions GeneratorOptions = new()
    {
        IncludeAssemblyAttributes = false,

        // The library declares its DI extensions in Microsoft.Extensions.DependencyInjection; they are public API too.
        DenyNamespacePrefixes = [],
    };

    /// <summary>Renders the public API of <paramref name="assembly"/>: nullability, <c>required</c>, default values included.</summary>
    /// <param name="assembly">The assembly.</param>
    /// <returns>The text, with <c>\n</c> line endings.</returns>
    public static string Render(Assembly assembly) =>
        assembly.GeneratePublicApi(GeneratorOptions).ReplaceLineEndings("\n") + "\n";
}
