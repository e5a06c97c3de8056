using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MoltBot.Security;
using MoltBot.Security.Pii;

namespace MoltBot.Tests.Security;

public sealed class PiiVaultTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("moltbot-vault").FullName;
    private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    private PiiMasker Masker(byte[]? key = null, SecurityOptions? options = null) =>
        new(new PiiVaultStore((byte[])(key ?? Key).Clone(), _dir, 100, NullLogger<PiiVaultStore>.Instance), Options.Create(options ?? new SecurityOptions()));

    [Fact]
    public async Task Same_value_gets_the_same_token_per_conversation_and_tokens_restart_per_conversation()
    {
        var masker = Masker();
        string a = await masker.MaskAsync("web:c1", "mail a@example.com and b@example.com, again A@EXAMPLE.com", default);
        Assert.Equal("mail ⟦EMAIL_1⟧ and ⟦EMAIL_2⟧, again ⟦EMAIL_1⟧", a);
        string b = await masker.MaskAsync("web:c2", "mail b@example.com", default);
        Assert.Equal("mail ⟦EMAIL_1⟧", b);
        string again = await masker.MaskAsync("web:c1", "later: b@example.com", default);
        Assert.Equal("later: ⟦EMAIL_2⟧", again);
    }

    [Fact]
    public async Task Vault_is_encrypted_at_rest_and_survives_a_restart()
    {
        string card = "4111 1111 1111 1111", mail = "secret.person@example.com";
        string masked = await Masker().MaskAsync("telegram:42", $"{mail} {card}", default);
        foreach (var file in Directory.GetFiles(_dir))
        {
            string text = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(file));
            Assert.DoesNotContain(mail, text);
            Assert.DoesNotContain("4111", text);
            Assert.DoesNotContain("telegram:42", Path.GetFileName(file));
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
        // A new store (a restart) restores with the same key; the policy restores EMAIL but keeps CARD masked.
        Assert.Equal($"{mail} ⟦CARD_1⟧", await Masker().UnmaskAsync("telegram:42", masked, default));
        // The numbering continues after the restart instead of reusing ⟦EMAIL_1⟧.
        Assert.Equal("⟦EMAIL_2⟧", await Masker().MaskAsync("telegram:42", "new@example.com", default));
    }

    [Fact]
    public async Task Restore_policy_is_per_entity_type()
    {
        var options = new SecurityOptions();
        options.Pii.Restore["EMAIL"] = false;
        options.Pii.Restore["CARD"] = true;
        var masker = Masker(options: options);
        string masked = await masker.MaskAsync("web:p", "x@example.com 4111111111111111", default);
        Assert.Equal("⟦EMAIL_1⟧ 4111111111111111", await masker.UnmaskAsync("web:p", masked, default));
    }

    [Fact]
    public async Task A_damaged_vault_file_is_kept_aside_not_deleted()
    {
        await Masker().MaskAsync("web:k", "x@example.com", default);
        string file = Directory.GetFiles(_dir).Single();
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[^1] ^= 0x55; // tampering breaks the AES-GCM tag
        await File.WriteAllBytesAsync(file, bytes);
        Assert.Equal("⟦EMAIL_1⟧", await Masker().UnmaskAsync("web:k", "⟦EMAIL_1⟧", default));
        Assert.Single(Directory.GetFiles(_dir, "*.unreadable-*"));
    }

    [Fact]
    public void Generated_key_file_is_owner_only_and_stable()
    {
        var paths = new MoltBot.Contracts.Configuration.MoltBotPaths(_dir, _dir, _dir);
        var first = VaultKey.Load(new SecurityOptions(), paths);
        var second = VaultKey.Load(new SecurityOptions(), paths);
        Assert.Equal(32, first.Length);
        Assert.Equal(first, second);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "security", "vault.key")));
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
