using Microsoft.Extensions.Logging;

namespace SessionKit.Redis;

public sealed partial class RedisSessionBackplane
{
    /// <summary>Log messages of the Redis backplane (event ids 250–279). Session ids never appear in them.</summary>
    private static partial class Log
    {
        [LoggerMessage(250, LogLevel.Information, "Session backplane connected: its own heartbeat came back through Redis.", EventName = "BackplaneConnected")]
        public static partial void Connected(ILogger logger);

        [LoggerMessage(251, LogLevel.Warning, "Session backplane disconnected ({Reason}); caches stop trusting it until its heartbeat comes back.", EventName = "BackplaneDisconnected")]
        public static partial void Disconnected(ILogger logger, string reason);

        [LoggerMessage(252, LogLevel.Warning, "Ignored an unreadable session backplane message ({Length} bytes).", EventName = "BackplaneMessageUnreadable")]
        public static partial void Unreadable(ILogger logger, int length);

        [LoggerMessage(253, LogLevel.Error, "A session backplane subscriber failed.", EventName = "BackplaneSubscriberFailed")]
        public static partial void SubscriberFailed(ILogger logger, Exception exception);

        [LoggerMessage(254, LogLevel.Warning, "Could not subscribe to the session backplane channel; retrying at the next heartbeat.", EventName = "BackplaneSubscribeFailed")]
        public static partial void SubscribeFailed(ILogger logger, Exception exception);

        [LoggerMessage(255, LogLevel.Warning, "Could not publish a session backplane acknowledgement or leave notice; other nodes wait out this node's lease instead.", EventName = "BackplaneAckFailed")]
        public static partial void AckFailed(ILogger logger, Exception exception);
    }
}
