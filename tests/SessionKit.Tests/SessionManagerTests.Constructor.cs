using Microsoft.Extensions.Options;

namespace SessionKit.Tests;

public sealed partial class SessionManagerTests
{
    [Theory]
    [InlineData("IdleTimeout")]
    [InlineData("AbsoluteTimeout")]
    [InlineData("TouchThreshold")]
    [InlineData("CleanupInterval")]
    [InlineData("CleanupBatchSize")]
    [InlineData("MaxStateBytes")]
    [InlineData("MaxSessionsPerUser")]
    [InlineData("RotationGracePeriod")]
    public void Constructor_InvalidOptions_ThrowsNamingTheOption(string option)
    {
        var options = new SessionKitOptions();
        switch (option)
        {
            case "IdleTimeout": options.IdleTimeout = TimeSpan.Zero; break;
            case "AbsoluteTimeout": options.AbsoluteTimeout = TimeSpan.FromMinutes(5); break;
            case "TouchThreshold": options.TouchThreshold = TimeSpan.FromMinutes(20); break;
            case "CleanupInterval": options.CleanupInterval = TimeSpan.FromSeconds(-1); break;
            case "CleanupBatchSize": options.CleanupBatchSize = 0; break;
            case "MaxStateBytes": options.MaxStateBytes = 0; break;
            case "MaxSessionsPerUser": options.MaxSessionsPerUser = 0; break;
            case "RotationGracePeriod": options.RotationGracePeriod = TimeSpan.FromSeconds(-1); break;
        }

        var act = () => new SessionManager(_store, Options.Create(options), _time);

        act.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain(option);
    }

    [Fact]
    public void Constructor_AbsoluteShorterThanIdle_MessageSaysSo()
    {
        var options = new SessionKitOptions { IdleTimeout = TimeSpan.FromHours(1), AbsoluteTimeout = TimeSpan.FromMinutes(30) };

        var act = () => new SessionManager(_store, Options.Create(options), _time);

        act.Should().Throw<OptionsValidationException>().WithMessage("*AbsoluteTimeout*must not be shorter than IdleTimeout*");
    }
}
