using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SessionKit.Caching;
using StackExchange.Redis;

namespace SessionKit.Redis;

// The wire format of backplane messages.
public sealed partial class RedisSessionBackplane
{
    internal static byte[] Encode(SessionBackplaneMessage message)
    {
        var source = Encoding.UTF8.GetBytes(message.SourceId);
        var id = message.SessionId is null ? null : Encoding.UTF8.GetBytes(message.SessionId);
        var payload = message.Payload is null ? null : Encoding.UTF8.GetBytes(message.Payload);
        var frame = new byte[2 + 1 + 8 + 12 + source.Length + (id?.Length ?? 0) + (payload?.Length ?? 0)];
        frame[0] = FormatVersion;
        frame[1] = KindMessage;
        frame[2] = (byte)message.Action;
        BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(3), message.Version);
        var at = 11;
        at = Write(frame, at, source);
        at = Write(frame, at, id);
        Write(frame, at, payload);
        return frame;

        static int Write(byte[] frame, int at, byte[]? bytes)
        {
            BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(at), bytes?.Length ?? -1);
            bytes?.CopyTo(frame, at + 4);
            return at + 4 + (bytes?.Length ?? 0);
        }
    }

    internal static SessionBackplaneMessage? Decode(byte[] frame)
    {
        if (frame.Length < 23 || frame[1] != KindMessage || frame[2] > (byte)SessionBackplaneAction.Notification)
        {
            return null;
        }

        var at = 11;
        if (!TryRead(frame, ref at, out var source) || source is null || !TryRead(frame, ref at, out var id) || !TryRead(frame, ref at, out var payload))
        {
            return null;
        }

        return new SessionBackplaneMessage
        {
            SourceId = source,
            Action = (SessionBackplaneAction)frame[2],
            Version = BinaryPrimitives.ReadInt64LittleEndian(frame.AsSpan(3)),
            SessionId = id,
            Payload = payload,
        };

        static bool TryRead(byte[] frame, ref int at, out string? value)
        {
            value = null;
            if (at + 4 > frame.Length)
            {
                return false;
            }

            var length = BinaryPrimitives.ReadInt32LittleEndian(frame.AsSpan(at));
            at += 4;
            if (length < 0)
            {
                return length == -1;
            }

            if (at + length > frame.Length)
            {
                return false;
            }

            value = Encoding.UTF8.GetString(frame, at, length);
            at += length;
            return true;
        }
    }
}
