using System.Text;
using System.Text.Json;
using SessionKit.Security;

namespace SessionKit.Tests;

public sealed class SessionModelTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static Session NewSession() => new()
    {
        Id = SessionIds.Generate(),
        CreatedAt = T0,
        LastAccessedAt = T0,
        IdleTimeout = TimeSpan.FromMinutes(20),
        AbsoluteExpiresAt = T0 + TimeSpan.FromHours(8),
        Version = 1,
    };

    [Fact]
    public void ExpiresAt_IsSlidingExpiryBeforeTheCap()
    {
        var session = NewSession() with { LastAccessedAt = T0 + TimeSpan.FromHours(1) };

        session.ExpiresAt.Should().Be(T0 + TimeSpan.FromHours(1) + TimeSpan.FromMinutes(20));
    }

    [Fact]
    public void ExpiresAt_IsTheAbsoluteCapWhenEarlier()
    {
        var session = NewSession() with { LastAccessedAt = T0 + TimeSpan.FromHours(7.9) };

        session.ExpiresAt.Should().Be(T0 + TimeSpan.FromHours(8));
        session.IsLiveAt(T0 + TimeSpan.FromHours(8)).Should().BeFalse();
        session.IsLiveAt(T0 + TimeSpan.FromHours(8) - TimeSpan.FromTicks(1)).Should().BeTrue();
    }

    [Fact]
    public void Collections_CannotBeMutatedThroughTheSnapshot()
    {
        var source = new Dictionary<string, string> { ["a"] = "1" };
        var session = NewSession() with { Metadata = source };

        source["a"] = "changed";

        session.Metadata["a"].Should().Be("1");
        session.Metadata.Should().NotBeAssignableTo<IDictionary<string, string>>("a snapshot's collections offer no mutating interface");
        session.State.Should().NotBeAssignableTo<IDictionary<string, JsonElement>>();
    }

    [Fact]
    public void Collections_LookUpByOrdinalKeyAtAnySize()
    {
        foreach (var size in new[] { 0, 1, 8, 9, 100 })
        {
            var source = Enumerable.Range(0, size).ToDictionary(i => $"k{i:D3}", i => $"v{i}");
            var session = NewSession() with { Metadata = source };

            session.Metadata.Should().BeEquivalentTo(source);
            session.Metadata.Keys.Should().BeInAscendingOrder(StringComparer.Ordinal);
            foreach (var (key, value) in source)
            {
                session.Metadata[key].Should().Be(value);
            }

            session.Metadata.ContainsKey("K000").Should().BeFalse("keys are ordinal, case-sensitive");
            session.Metadata.TryGetValue("missing", out _).Should().BeFalse();
            FluentActions.Invoking(() => session.Metadata["missing"]).Should().Throw<KeyNotFoundException>();
        }
    }

    [Fact]
    public void ToString_OmitsIdStateAndBinding()
    {
        var session = new SessionChanges().SetState("secret", "s3cr3t").SetBinding("hash", "h4sh").ApplyTo(NewSession(), T0);

        var text = session.ToString();

        text.Should().NotContain(session.Id).And.NotContain("s3cr3t").And.NotContain("h4sh");
    }

    [Fact]
    public void GetState_TypedHelpers_RoundTrip()
    {
        var session = new SessionChanges()
            .SetState("cart", new Cart("sku-1", 3))
            .SetState("count", 7, TestJsonContext.Default.Int32)
            .ApplyTo(NewSession(), T0);

        session.GetState<Cart>("cart").Should().Be(new Cart("sku-1", 3));
        session.GetState("count", TestJsonContext.Default.Int32).Should().Be(7);
        session.GetState<Cart>("missing").Should().BeNull();
    }

    [Fact]
    public void SetState_Unserializable_ThrowsArgumentExceptionNamingTheKey()
    {
        var changes = new SessionChanges();

        var act = () => changes.SetState("loop", new Loop());

        act.Should().Throw<ArgumentException>().WithMessage("*'loop'*");
        changes.IsEmpty.Should().BeTrue();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void Changes_BlankKeys_ThrowArgumentException(string? key)
    {
        var changes = new SessionChanges();

        FluentActions.Invoking(() => changes.SetMetadata(key!, "v")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => changes.SetState(key!, 1)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => changes.RemoveState(key!)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => changes.SetBinding(key!, "v")).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void ApplyTo_MergesPerKeyAndNeverMovesLastAccessBackwards()
    {
        var current = new SessionChanges().SetMetadata("a", "1").SetMetadata("b", "2").SetState("x", 1).ApplyTo(NewSession(), T0 + TimeSpan.FromMinutes(5));

        var next = new SessionChanges().RemoveMetadata("a").SetMetadata("c", "3").RemoveState("x").SetUserId("u").SetKind("chat").ApplyTo(current, T0);

        next.Metadata.Should().BeEquivalentTo(new Dictionary<string, string> { ["b"] = "2", ["c"] = "3" });
        next.State.Should().BeEmpty();
        next.UserId.Should().Be("u");
        next.Kind.Should().Be("chat");
        next.Version.Should().Be(current.Version + 1);
        next.LastAccessedAt.Should().Be(T0 + TimeSpan.FromMinutes(5));
    }

    [Fact]
    public void Serializer_RoundTripsEveryField()
    {
        var session = new SessionChanges()
            .SetMetadata("m", "v")
            .SetState("s", new { nested = new[] { 1, 2 }, text = "\u0000\"\\ 🚀" })
            .SetBinding("b", "h")
            .SetUserId("user")
            .SetKind("kind")
            .ApplyTo(NewSession(), T0 + TimeSpan.FromTicks(1234567));

        var copy = SessionSerializer.Deserialize(SessionSerializer.SerializeToUtf8Bytes(session));

        copy.Should().BeEquivalentTo(session, o => o.Excluding(s => s.State));
        copy.State["s"].GetRawText().Should().Be(session.State["s"].GetRawText());
    }

    [Fact]
    public void Serializer_WritesTheFormatVersion()
    {
        var json = Encoding.UTF8.GetString(SessionSerializer.SerializeToUtf8Bytes(NewSession()));

        JsonDocument.Parse(json).RootElement.GetProperty("v").GetInt32().Should().Be(SessionSerializer.FormatVersion);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("{\"v\":1}")]
    [InlineData("{\"v\":99,\"id\":\"x\"}")]
    [InlineData("\u0000\u0001binary")]
    public void Serializer_CorruptForeignOrFutureDocuments_ThrowSessionFormatException(string document)
    {
        var act = () => SessionSerializer.Deserialize(Encoding.UTF8.GetBytes(document));

        act.Should().Throw<SessionFormatException>();
    }

    [Fact]
    public void Serializer_TruncatedDocument_ThrowsSessionFormatException()
    {
        var bytes = SessionSerializer.SerializeToUtf8Bytes(new SessionChanges().SetState("s", "value").ApplyTo(NewSession(), T0));

        for (var length = 0; length < bytes.Length; length += 7)
        {
            var prefix = bytes.AsSpan(0, length).ToArray();
            FluentActions.Invoking(() => SessionSerializer.Deserialize(prefix)).Should().Throw<SessionFormatException>($"a {length}-byte prefix is truncated");
        }
    }

    [Fact]
    public void SessionIds_Generate_Has256BitsInCanonicalBase64Url()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => SessionIds.Generate()).ToList();

        ids.Should().OnlyHaveUniqueItems();
        ids.Should().OnlyContain(id => SessionIds.IsWellFormed(id));
        System.Buffers.Text.Base64Url.DecodeFromChars(ids[0]).Should().HaveCount(32);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaé")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaB")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\0")]
    public void SessionIds_IsWellFormed_RejectsAnythingElse(string? id)
    {
        SessionIds.IsWellFormed(id).Should().BeFalse();
    }

    [Fact]
    public void Query_LimitOutsideRange_Throws()
    {
        FluentActions.Invoking(() => new SessionQuery { Limit = 0 }).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new SessionQuery { Limit = SessionQuery.MaxLimit + 1 }).Should().Throw<ArgumentOutOfRangeException>();
    }

    internal sealed record Cart(string Sku, int Quantity);

    private sealed class Loop
    {
        public Loop Next => this;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(int))]
internal sealed partial class TestJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
