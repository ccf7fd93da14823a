namespace SessionKit.Tests;

/// <summary>A running Redis container started by an <see cref="IRedisContainerLauncher"/>; disposing it removes it.</summary>
public interface IRedisContainer : IAsyncDisposable
{
    /// <summary>Gets the host this process reaches the server on (a loopback address).</summary>
    string Host { get; }

    /// <summary>Gets the port this process reaches the server on.</summary>
    int Port { get; }

    /// <summary>Gets what runs where, for test output and failure messages (image, endpoint, network, start time).</summary>
    string Description { get; }
}
