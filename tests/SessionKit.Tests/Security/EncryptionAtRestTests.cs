using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SessionKit.Security;
using SessionKit.Stores;

namespace SessionKit.Tests.Security;

/// <summary>Encryption at rest of metadata and state values: what the store holds, what the manager returns, key rotation and tampering.</summary>
public sealed class EncryptionAtRestTests : IAsyncLifetime
{
    private const string Secret = "4111-1111-1111-1111";
    private const string SecretState = "Mallory's shopping list";
    private static readonly byte[] KeyA = Enumerable.Repeat((byte)0xA1, 32).ToArray();
    private static readonly byte[] KeyB = Enumerable.Repeat((byte)0xB2, 32).ToArray();

    private readonly ManagerHarness _harness = new();
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "sessionkit-enc-" + Guid.NewGuid().ToString("N"));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _harness.DisposeAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Manager_InMemoryStore_RoundTripsMetadataAndState()
    {
        var manager = Encrypted("a", KeyA);

        var created = await manager.CreateAsync(new SessionCreateOptions { UserId = "u1" }.WithMetadata("card", Secret).WithState("cart", new Cart(SecretState, 3)));
        var updated = await manager.UpdateAsync(created.Id, new SessionChanges().SetMetadata("tenant", "t-1").SetState("n", 7));
        var read = await manager.GetAsync(created.Id);

        updated.Session!.Metadata.Should().Contain("card", Secret).And.Contain("tenant", "t-1");
        read.Session!.Metadata.Should().Equal(new Dictionary<string, string> { ["card"] = Secret, ["tenant"] = "t-1" });
        read.Session.GetState<Cart>("cart").Should().Be(new Cart(SecretState, 3));
        read.Session.GetState<int>("n").Should().Be(7);
        read.Session.UserId.Should().Be("u1");
    }

    [Fact]
    public async Task Manager_InMemoryStore_StoreHoldsOnlySealedValues()
    {
        var manager = Encrypted("a", KeyA);
        var created = await manager.CreateAsync(new SessionCreateOptions().WithMetadata("card", Secret).WithState("cart", new Cart(SecretState, 3)));
        await manager.UpdateAsync(created.Id, new SessionChanges().SetMetadata("card2", Secret).SetState("list", SecretState));

        var raw = await _harness.Memory.GetAsync(created.Id, _harness.Time.GetUtcNow());

        raw!.Metadata.Keys.Should().BeEquivalentTo("card", "card2");
        raw.Metadata.Values.Should().AllSatisfy(v => v.Should().StartWith("skenc1:a:").And.NotContain(Secret));
        raw.State.Keys.Should().BeEquivalentTo("cart", "list");
        raw.State.Values.Should().AllSatisfy(v =>
        {
            v.ValueKind.Should().Be(JsonValueKind.String);
            v.GetString().Should().StartWith("skenc1:a:");
            v.GetRawText().Should().NotContain("Mallory");
        });
    }

    [Fact]
    public async Task Manager_FileStore_RoundTripsAndFilesHoldNoPlaintext()
    {
        var store = new FileSessionStore(new FileSessionStoreOptions { Directory = _directory, FlushToDisk = false });
        var manager = Encrypted("a", KeyA, store);

        var created = await manager.CreateAsync(new SessionCreateOptions().WithMetadata("card", Secret).WithState("cart", new Cart(SecretState, 3)));
        await manager.UpdateAsync(created.Id, new SessionChanges().SetMetadata("card2", Secret).SetState("list", SecretState));
        var read = await manager.GetAsync(created.Id);

        read.Session!.Metadata.Should().Equal(new Dictionary<string, string> { ["card"] = Secret, ["card2"] = Secret });
        read.Session.GetState<Cart>("cart").Should().Be(new Cart(SecretState, 3));
        read.Session.GetState<string>("list").Should().Be(SecretState);
        var files = Directory.GetFiles(_directory, "*", SearchOption.AllDirectories).Select(File.ReadAllText).ToList();
        files.Should().Contain(f => f.Contains("skenc1:a:", StringComparison.Ordinal));
        files.Should().AllSatisfy(f => f.Should().NotContain(Secret).And.NotContain("Mallory"));
    }

    [Fact]
    public async Task Get_ValueCopiedToAnotherKey_FailsAuthentication()
    {
        var manager = Encrypted("a", KeyA);
        var created = await manager.CreateAsync(new SessionCreateOptions().WithMetadata("role", "user").WithMetadata("card", Secret));
        var raw = await _harness.Memory.GetAsync(created.Id, _harness.Time.GetUtcNow());
        await _harness.Memory.UpdateAsync(created.Id, new SessionChanges().SetMetadata("role", raw!.Metadata["card"]), _harness.Time.GetUtcNow(), long.MaxValue);

        var act = async () => await manager.GetAsync(created.Id);

        (await act.Should().ThrowAsync<SessionFormatException>()).Which.Message.Should().Contain("'role'").And.Contain("authentication");
    }

    [Fact]
    public async Task Get_StateValueCopiedToAnotherSession_FailsAuthentication()
    {
        var manager = Encrypted("a", KeyA);
        var victim = await manager.CreateAsync(new SessionCreateOptions().WithState("cart", new Cart(SecretState, 1)));
        var attacker = await manager.CreateAsync(new SessionCreateOptions().WithState("cart", new Cart("mine", 1)));
        var now = _harness.Time.GetUtcNow();
        var stolen = (await _harness.Memory.GetAsync(victim.Id, now))!.State["cart"];
        await _harness.Memory.UpdateAsync(attacker.Id, new SessionChanges().SetState("cart", stolen), now, long.MaxValue);

        var act = async () => await manager.GetAsync(attacker.Id);

        (await act.Should().ThrowAsync<SessionFormatException>()).Which.Message.Should().Contain("'cart'").And.Contain("authentication");
    }

    [Fact]
    public async Task Get_AlteredCiphertext_FailsAuthentication()
    {
        var manager = Encrypted("a", KeyA);
        var created = await manager.CreateAsync(new SessionCreateOptions().WithMetadata("card", Secret));
        var now = _harness.Time.GetUtcNow();
        var sealedValue = (await _harness.Memory.GetAsync(created.Id, now))!.Metadata["card"];
        var flipped = sealedValue[..^2] + (sealedValue[^2] == 'A' ? 'B' : 'A') + sealedValue[^1];
        await _harness.Memory.UpdateAsync(created.Id, new SessionChanges().SetMetadata("card", flipped), now, long.MaxValue);

        var act = async () => await manager.GetAsync(created.Id);

        await act.Should().ThrowAsync<SessionFormatException>().WithMessage("*authentication*");
    }

    [Fact]
    public async Task Rotation_NewKeyCurrentOldKeyPrevious_ReadsOldValuesAndWritesWithNewKey()
    {
        var before = Encrypted("a", KeyA);
        var created = await before.CreateAsync(new SessionCreateOptions().WithMetadata("card", Secret).WithState("cart", new Cart(SecretState, 2)));
        var after = Encrypted("b", KeyB, previous: ("a", KeyA));

        var read = await after.GetAsync(created.Id);
        await after.UpdateAsync(created.Id, new SessionChanges().SetMetadata("tenant", "t").SetState("cart", new Cart(SecretState, 3)));
        var raw = await _harness.Memory.GetAsync(created.Id, _harness.Time.GetUtcNow());
        var reread = await after.GetAsync(created.Id);

        read.Session!.Metadata["card"].Should().Be(Secret);
        read.Session.GetState<Cart>("cart").Should().Be(new Cart(SecretState, 2));
        raw!.Metadata["card"].Should().StartWith("skenc1:a:", "a value not written since the rotation keeps its old key");
        raw.Metadata["tenant"].Should().StartWith("skenc1:b:");
        raw.State["cart"].GetString().Should().StartWith("skenc1:b:", "a rewritten value is sealed with the new key");
        reread.Session!.Metadata.Should().Equal(new Dictionary<string, string> { ["card"] = Secret, ["tenant"] = "t" });
        reread.Session.GetState<Cart>("cart").Should().Be(new Cart(SecretState, 3));
    }

    [Fact]
    public async Task Get_UnknownKeyId_FailsNamingTheKeyId()
    {
        var before = Encrypted("key-2026-01", KeyA);
        var created = await before.CreateAsync(new SessionCreateOptions().WithMetadata("card", Secret));
        var after = Encrypted("b", KeyB);

        var act = async () => await after.GetAsync(created.Id);

        (await act.Should().ThrowAsync<SessionFormatException>()).Which.Message.Should().Contain("'key-2026-01'").And.NotContain(created.Id);
    }

    [Fact]
    public async Task Query_ValueUnderUnknownKey_ListsTheSessionWithoutThatValue()
    {
        var before = Encrypted("old", KeyA);
        var created = await before.CreateAsync(new SessionCreateOptions { UserId = "u1" }.WithMetadata("card", Secret));
        var plain = _harness.Create(configure: static o => o.EnableBackgroundCleanup = false);
        await plain.UpdateAsync(created.Id, new SessionChanges().SetMetadata("tenant", "t"));
        var after = Encrypted("b", KeyB);

        var page = await after.QueryAsync(new SessionQuery { UserId = "u1" });

        page.Sessions.Should().ContainSingle().Which.Metadata.Should().Equal(new Dictionary<string, string> { ["tenant"] = "t" });
    }

    [Fact]
    public async Task Get_ValuesWrittenBeforeEncryption_ReadInClear()
    {
        var plain = _harness.Create(configure: static o => o.EnableBackgroundCleanup = false);
        var created = await plain.CreateAsync(new SessionCreateOptions().WithMetadata("card", Secret).WithState("cart", new Cart(SecretState, 1)));
        var encrypted = Encrypted("a", KeyA);

        await encrypted.UpdateAsync(created.Id, new SessionChanges().SetMetadata("tenant", "t"));
        var read = await encrypted.GetAsync(created.Id);

        read.Session!.Metadata.Should().Equal(new Dictionary<string, string> { ["card"] = Secret, ["tenant"] = "t" });
        read.Session.GetState<Cart>("cart").Should().Be(new Cart(SecretState, 1));
    }

    [Fact]
    public async Task Update_ParallelSetsOfDistinctKeys_AreAllMerged()
    {
        var manager = Encrypted("a", KeyA);
        var created = await manager.CreateAsync();

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
            (await manager.UpdateAsync(created.Id, new SessionChanges().SetMetadata("k" + i, "v" + i))).IsUpdated.Should().BeTrue())));
        var read = await manager.GetAsync(created.Id);
        var raw = await _harness.Memory.GetAsync(created.Id, _harness.Time.GetUtcNow());

        read.Session!.Metadata.Should().Equal(Enumerable.Range(0, 20).ToDictionary(i => "k" + i, i => "v" + i));
        raw!.Metadata.Values.Should().AllSatisfy(v => v.Should().StartWith("skenc1:a:"));
    }

    [Fact]
    public async Task Update_KeepsExpectedVersionBindingUserKindAndExpiryCap()
    {
        var manager = Encrypted("a", KeyA);
        var created = await manager.CreateAsync(new SessionCreateOptions().WithMetadata("gone", "x"));
        var cap = _harness.Time.GetUtcNow() + TimeSpan.FromMinutes(3);

        var stale = await manager.UpdateAsync(created.Id, new SessionChanges { ExpectedVersion = 42 }.SetMetadata("m", "v"));
        var result = await manager.UpdateAsync(created.Id, new SessionChanges { ExpectedVersion = created.Version }
            .SetMetadata("m", "v").RemoveMetadata("gone").SetUserId("u9").SetKind("chat").SetBinding("b", "1").CapAbsoluteExpiry(cap));

        stale.Status.Should().Be(SessionUpdateStatus.Conflict);
        result.IsUpdated.Should().BeTrue();
        result.Session!.Metadata.Should().Equal(new Dictionary<string, string> { ["m"] = "v" });
        result.Session.UserId.Should().Be("u9");
        result.Session.Kind.Should().Be("chat");
        result.Session.Binding.Should().Contain("b", "1");
        result.Session.AbsoluteExpiresAt.Should().Be(cap);
    }

    [Fact]
    public void SessionChanges_PublicSurface_IsWhatTheEncryptingStoreCopies()
    {
        // EncryptingSessionStore rebuilds change sets member by member; a new member must be copied there too.
        typeof(SessionChanges).GetProperties().Select(static p => p.Name).Should().BeEquivalentTo(
            "ExpectedVersion", "MetadataChanges", "StateChanges", "BindingChanges", "ChangesUserId", "UserId", "ChangesKind", "Kind", "IsEmpty", "AbsoluteExpiryCap");
    }

    [Theory]
    [InlineData("a:b", 32, "KeyId")]
    [InlineData("", 32, "KeyId")]
    [InlineData("a", 16, "Key must be exactly 32 bytes")]
    public void Constructor_InvalidKeyRing_FailsNamingTheOption(string keyId, int keyBytes, string expected)
    {
        var act = () => Encrypted(keyId, new byte[keyBytes]);

        act.Should().Throw<OptionsValidationException>().WithMessage($"*SessionEncryptionOptions.{expected}*");
    }

    [Fact]
    public void Constructor_PreviousKeyWithTheCurrentIdOrWrongLength_FailsNamingTheOption()
    {
        var sameId = () => Encrypted("a", KeyA, previous: ("a", KeyB));
        var shortKey = () => Encrypted("a", KeyA, previous: ("b", new byte[31]));

        sameId.Should().Throw<OptionsValidationException>().WithMessage("*SessionEncryptionOptions.PreviousKeys must not contain the current KeyId*");
        shortKey.Should().Throw<OptionsValidationException>().WithMessage("*SessionEncryptionOptions.PreviousKeys['b'] must be exactly 32 bytes*");
    }

    [Fact]
    public async Task AddStateEncryption_ConfiguresTheManager()
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_harness.Time);
        services.AddSessions(static o => o.EnableBackgroundCleanup = false).AddStateEncryption(static o => (o.KeyId, o.Key) = ("di", KeyA));
        await using var provider = services.BuildServiceProvider();
        var manager = provider.GetRequiredService<ISessionManager>();
        var store = (InMemorySessionStore)provider.GetRequiredService<ISessionStore>();

        var created = await manager.CreateAsync(new SessionCreateOptions().WithMetadata("card", Secret));

        (await store.GetAsync(created.Id, _harness.Time.GetUtcNow()))!.Metadata["card"].Should().StartWith("skenc1:di:");
        (await manager.GetAsync(created.Id)).Session!.Metadata["card"].Should().Be(Secret);
    }

    [Fact]
    public void AddStateEncryption_InvalidKey_FailsValidation()
    {
        var services = new ServiceCollection();
        services.AddSessions().AddStateEncryption(static o => (o.KeyId, o.Key) = ("di", new byte[8]));
        using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IOptions<SessionKitOptions>>().Value;

        act.Should().Throw<OptionsValidationException>().WithMessage("*SessionEncryptionOptions.Key must be exactly 32 bytes*");
    }

    private SessionManager Encrypted(string keyId, byte[] key, ISessionStore? store = null, (string Id, byte[] Key)? previous = null) =>
        _harness.Create(store, o =>
        {
            o.EnableBackgroundCleanup = false;
            o.Encryption = new SessionEncryptionOptions { KeyId = keyId, Key = key };
            if (previous is { } p)
            {
                o.Encryption.PreviousKeys[p.Id] = p.Key;
            }
        });

    private sealed record Cart(string Note, int Items);
}
