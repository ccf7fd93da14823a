using System.Globalization;
using Xunit.Abstractions;

namespace SessionKit.Tests;

/// <summary>
/// The shared server of this run is where the environment says: a CI leg with
/// <c>SESSIONKIT_TEST_REDIS_CONTAINER=required</c> proves the container path here, and every run records in its
/// output (and trx) which server the suite ran on.
/// </summary>
public sealed class RedisSharedServerTests(RedisTestServer redis, ITestOutputHelper output) : IClassFixture<RedisTestServer>
{
    [Fact]
    public async Task SharedServer_RunsWhereTheEnvironmentSays()
    {
        output.WriteLine($"Shared Redis server: {redis.Server.Description}");
        if (TestcontainersRedisLauncher.StartTimes.Count > 0)
        {
            output.WriteLine("Redis containers started so far: "
                + string.Join(", ", TestcontainersRedisLauncher.StartTimes.Select(t => t.TotalSeconds.ToString("0.00 s", CultureInfo.InvariantCulture))));
        }

        var external = !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(RedisServerFixture.ExternalServerVariable));

        switch (external ? (RedisContainerMode?)null : RedisServerFixture.ReadContainerMode())
        {
            case null:
                redis.Server.Kind.Should().Be(RedisServerKind.External);
                break;
            case RedisContainerMode.Never:
                redis.Server.Kind.Should().Be(RedisServerKind.Local);
                break;
            case RedisContainerMode.Required:
                redis.Server.Kind.Should().Be(RedisServerKind.Container);
                redis.Server.Description.Should().StartWith("container ");
                break;
            default:
                if (await TestcontainersRedisLauncher.Instance.FindEndpointAsync() is null)
                {
                    redis.Server.Kind.Should().Be(RedisServerKind.Local);
                }
                else if (redis.Server.Kind != RedisServerKind.Container)
                {
                    redis.Server.Description.Should().Contain("no container:", "a fallback must say why the container failed");
                }

                break;
        }

        ((string?)await redis.Multiplexer.GetDatabase().ExecuteAsync("PING")).Should().Be("PONG");
    }
}
