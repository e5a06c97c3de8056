using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Security;

namespace MoltBot.Security.Pii;

/// <summary>
/// Replaces each piece of personal data by its conversation's token (⟦EMAIL_1⟧) and, on the way out, puts back
/// the values whose entity type Security:Pii:Restore allows.
/// </summary>
public sealed partial class PiiMasker(PiiVaultStore vaults, IOptions<SecurityOptions> options) : IPiiMasker
{
    public async ValueTask<string> MaskAsync(string conversationKey, string text, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(text)) return text;
        var matches = PiiDetector.Find(text);
        if (matches.Count == 0) return text;
        var vault = await vaults.GetAsync(conversationKey, cancellationToken).ConfigureAwait(false);
        var sb = new StringBuilder(text.Length);
        bool changed = false;
        int pos = 0;
        lock (vault.Sync)
        {
            foreach (var m in matches)
            {
                sb.Append(text, pos, m.Start - pos);
                sb.Append(vault.TokenFor(m.Type, m.Value, out bool created));
                changed |= created;
                pos = m.End;
            }
        }
        sb.Append(text, pos, text.Length - pos);
        // The mapping is on disk before the masked text goes anywhere, so a crash cannot orphan a token.
        if (changed) await vaults.SaveAsync(vault, cancellationToken).ConfigureAwait(false);
        return sb.ToString();
    }

    public async ValueTask<string> UnmaskAsync(string conversationKey, string text, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(text) || !text.Contains('⟦')) return text;
        var restore = options.Value.Pii.Restore;
        var vault = await vaults.GetAsync(conversationKey, cancellationToken).ConfigureAwait(false);
        return TokenRegex().Replace(text, m =>
            vault.TryGet(m.Value, out var entry) && restore.GetValueOrDefault(entry.Type) ? entry.Value : m.Value);
    }

    /// <summary>Masks without a vault, for texts that belong to no conversation (log lines, audit targets): ⟦EMAIL⟧.</summary>
    public static string MaskAnonymous(string text)
    {
        if (string.IsNullOrEmpty(text)) return text;
        var matches = PiiDetector.Find(text);
        if (matches.Count == 0) return text;
        var sb = new StringBuilder(text.Length);
        int pos = 0;
        foreach (var m in matches)
        {
            sb.Append(text, pos, m.Start - pos).Append('⟦').Append(m.Type).Append('⟧');
            pos = m.End;
        }
        return sb.Append(text, pos, text.Length - pos).ToString();
    }

    [GeneratedRegex(@"⟦[A-Z]+_\d+⟧")]
    private static partial Regex TokenRegex();
}
