using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace SessionKit.Tests;

/// <summary>The Docker endpoint probe, against fake engines on unix sockets in a temporary directory.</summary>
public sealed class DockerEndpointProbeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sessionkit-probe-").FullName;
    private readonly List<Socket> _listeners = [];

    public void Dispose()
    {
        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task PingAsync_EngineAnswers200_True()
    {
        var endpoint = FakeEngine("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK");

        (await DockerEndpointProbe.PingAsync(endpoint, CancellationToken.None)).Should().BeTrue();
    }

    [Fact]
    public async Task PingAsync_EngineAnswersAnError_False()
    {
        var endpoint = FakeEngine("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");

        (await DockerEndpointProbe.PingAsync(endpoint, CancellationToken.None)).Should().BeFalse();
    }

    [Fact]
    public async Task PingAsync_NoSocketFile_False()
    {
        var endpoint = new Uri("unix://" + Path.Combine(_directory, "absent.sock"));

        (await DockerEndpointProbe.PingAsync(endpoint, CancellationToken.None)).Should().BeFalse();
    }

    [Fact]
    public async Task FindAsync_SilentEngine_GivesUpAtTheBudget()
    {
        var silent = FakeEngine(response: null);
        var stopwatch = Stopwatch.StartNew();

        var found = await DockerEndpointProbe.FindAsync([silent], TimeSpan.FromMilliseconds(300));

        found.Should().BeNull();
        stopwatch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task FindAsync_SecondCandidateAnswers_ReturnsIt()
    {
        var absent = new Uri("unix://" + Path.Combine(_directory, "absent.sock"));
        var engine = FakeEngine("HTTP/1.0 200 OK\r\n\r\nOK");

        var found = await DockerEndpointProbe.FindAsync([absent, engine], DockerEndpointProbe.Budget);

        found.Should().Be(engine);
    }

    [Fact]
    public void Candidates_DockerHostSet_IsTheOnlyCandidate() =>
        DockerEndpointProbe.Candidates("unix:///tmp/podman.sock", "/home/dev", "/run/user/1000")
            .Should().Equal(new Uri("unix:///tmp/podman.sock"));

    [Fact]
    public void Candidates_LoopbackTcpDockerHost_IsProbed() =>
        DockerEndpointProbe.Candidates("tcp://127.0.0.1:2375", null, null).Should().Equal(new Uri("tcp://127.0.0.1:2375"));

    [Theory]
    [InlineData("tcp://192.0.2.10:2375")]
    [InlineData("ssh://user@build-host")]
    [InlineData("npipe:////./pipe/docker_engine")]
    public void Candidates_DockerHostNotProbeable_None(string dockerHost) =>
        DockerEndpointProbe.Candidates(dockerHost, "/home/dev", null).Should().BeEmpty();

    [Fact]
    public void Candidates_NoDockerHost_TheSocketsTestcontainersDiscovers() =>
        DockerEndpointProbe.Candidates(null, "/home/dev", "/run/user/1000").Select(u => u.LocalPath).Should().Equal(
            "/var/run/docker.sock",
            "/run/user/1000/docker.sock",
            "/home/dev/.docker/run/docker.sock",
            "/home/dev/.docker/desktop/docker.sock");

    // A one-connection fake engine: reads the request, then answers `response` (or nothing, holding the connection).
    private Uri FakeEngine(string? response)
    {
        var path = Path.Combine(_directory, Guid.NewGuid().ToString("N")[..8] + ".sock");
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        _listeners.Add(listener);
        _ = Task.Run(async () =>
        {
            try
            {
                using var connection = await listener.AcceptAsync();
                var buffer = new byte[1024];
                await connection.ReceiveAsync(buffer);
                if (response is null)
                {
                    await Task.Delay(TimeSpan.FromSeconds(10));
                    return;
                }

                await connection.SendAsync(Encoding.ASCII.GetBytes(response));
                connection.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // The test ended first.
            }
        });
        return new Uri("unix://" + path);
    }
}
