namespace SessionKit.Tests;

/// <summary>
/// Runs Redis in containers for <see cref="RedisServerFixture"/>. The seam keeps this folder BCL-only: only a test
/// project that references Testcontainers implements it (tests/SessionKit.Redis.Tests), and a fixture without one
/// never tries the container path.
/// </summary>
public interface IRedisContainerLauncher
{
    /// <summary>Gets the Docker-compatible endpoints <see cref="FindEndpointAsync"/> tries, in order (for failure messages).</summary>
    IReadOnlyList<Uri> Candidates { get; }

    /// <summary>Finds the first candidate endpoint that answers <c>GET /_ping</c>, within a short bound (about 1.5 s).</summary>
    /// <param name="cancellationToken">Cancels the probe.</param>
    /// <returns>The endpoint, or <see langword="null"/> when none answered.</returns>
    Task<Uri?> FindEndpointAsync(CancellationToken cancellationToken = default);

    /// <summary>Starts a Redis container and waits until it answers <c>PING</c> from this process.</summary>
    /// <param name="endpoint">The endpoint <see cref="FindEndpointAsync"/> found.</param>
    /// <param name="freePort">
    /// A free loopback port the fixture chose: with host networking the server listens on it; with a mapped port the
    /// launcher may ignore it.
    /// </param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running container, which the caller disposes.</returns>
    Task<IRedisContainer> StartAsync(Uri endpoint, int freePort, CancellationToken cancellationToken = default);
}
