using System.Buffers.Binary;
using System.Text;
using SessionKit.Caching;

namespace SessionKit.Redis;

// The wire format. Every frame starts with the format version and a kind byte; node ids are 16 random bytes per
// backplane instance. Heartbeat 'H': node, the sender's own timestamp (meaningful to the sender only). Message 'M':
// the body. Revocation 'R': origin node, sequence number, then the body. Acknowledgement 'A': acknowledging node,
// origin node, sequence number. Leave 'L': node. Body: action (1), version (8, LE), then source, session id and
// payload as (length (4, LE; -1 for null), UTF-8).
public sealed partial class RedisSessionBackplane
{
    private const int NodeLength = 16;
    private const int HeartbeatLength = 2 + NodeLength + 8;
    private const int RevocationHeader = 2 + NodeLength + 8;
    private const int AckLength = 2 + NodeLength + NodeLength + 8;
    private const int LeaveLength = 2 + NodeLength;

    internal static byte[] Encode(SessionBackplaneMessage message) => EncodeBody(message, KindMessage, 2);

    private byte[] EncodeRevocation(SessionBackplaneMessage message, long sequence)
    {
        var frame = EncodeBody(message, KindRevocation, RevocationHeader);
        _node.CopyTo(frame, 2);
        BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(2 + NodeLength), sequence);
        return frame;
    }

    private byte[] EncodeHeartbeat(long timestamp)
    {
        var frame = new byte[HeartbeatLength];
        frame[0] = FormatVersion;
        frame[1] = KindHeartbeat;
        _node.CopyTo(frame, 2);
        BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(2 + NodeLength), timestamp);
        return frame;
    }

    private byte[] EncodeAck(ReadOnlySpan<byte> origin, long sequence)
    {
        var frame = new byte[AckLength];
        frame[0] = FormatVersion;
        frame[1] = KindAck;
        _node.CopyTo(frame, 2);
        origin.CopyTo(frame.AsSpan(2 + NodeLength));
        BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(2 + NodeLength + NodeLength), sequence);
        return frame;
    }

    private byte[] EncodeLeave()
    {
        var frame = new byte[LeaveLength];
        frame[0] = FormatVersion;
        frame[1] = KindLeave;
        _node.CopyTo(frame, 2);
        return frame;
    }

    private static byte[] EncodeBody(SessionBackplaneMessage message, byte kind, int at)
    {
        var source = Encoding.UTF8.GetBytes(message.SourceId);
        var id = message.SessionId is null ? null : Encoding.UTF8.GetBytes(message.SessionId);
        var payload = message.Payload is null ? null : Encoding.UTF8.GetBytes(message.Payload);
        var frame = new byte[at + 1 + 8 + 12 + source.Length + (id?.Length ?? 0) + (payload?.Length ?? 0)];
        frame[0] = FormatVersion;
        frame[1] = kind;
        frame[at] = (byte)message.Action;
        BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(at + 1), message.Version);
        at += 9;
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

    /// <summary>Decodes a message frame ('M'); <see langword="null"/> when it is not one or is malformed.</summary>
    internal static SessionBackplaneMessage? Decode(byte[] frame) =>
        frame.Length >= 2 && frame[0] == FormatVersion && frame[1] == KindMessage ? DecodeBody(frame, 2) : null;

    private static SessionBackplaneMessage? DecodeBody(byte[] frame, int at)
    {
        if (frame.Length < at + 9 + 12 || frame[at] > (byte)SessionBackplaneAction.Notification)
        {
            return null;
        }

        var action = (SessionBackplaneAction)frame[at];
        var version = BinaryPrimitives.ReadInt64LittleEndian(frame.AsSpan(at + 1));
        at += 9;
        if (!TryRead(frame, ref at, out var source) || source is null || !TryRead(frame, ref at, out var id) || !TryRead(frame, ref at, out var payload))
        {
            return null;
        }

        return new SessionBackplaneMessage { SourceId = source, Action = action, Version = version, SessionId = id, Payload = payload };

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
