using System.CommandLine;
using System.Globalization;
using MoltBot.Hosting;
using MoltBot.Security.Audit;

namespace MoltBot.Cli;

/// <summary>`audit verify` checks the hash chain; `audit export --from --to` writes records as JSON lines.</summary>
public static class AuditVerb
{
    public static Command Create()
    {
        var audit = new Command("audit", "Check or export the tamper-evident audit log (data/audit/audit.jsonl).");

        var verify = new Command("verify", "Walk the hash chain; exit 1 and name the first broken link if a record was altered, removed or reordered.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        verify.SetAction((parse, ct) => StartupErrors.GuardAsync(async () =>
        {
            var context = SecurityCliContext.Load(parse.UnmatchedTokens.ToArray());
            var result = await AuditVerifier.VerifyAsync(context.AuditPath, ct);
            await (result.Ok ? Console.Out : Console.Error).WriteLineAsync((result.Ok ? "" : "moltbot: ") + result.Message);
            return result.Ok ? 0 : 1;
        }));

        var from = new Option<string?>("--from") { Description = "Start (inclusive): ISO 8601 date/time (UTC if no offset) or Unix milliseconds. Default: the beginning." };
        var to = new Option<string?>("--to") { Description = "End (exclusive): ISO 8601 date/time or Unix milliseconds. Default: now and later." };
        var output = new Option<string?>("--out") { Description = "Write to this file instead of standard output." };
        var export = new Command("export", "Write the audit records with from ≤ time < to as JSON lines.") { TreatUnmatchedTokensAsErrors = false };
        export.Options.Add(from);
        export.Options.Add(to);
        export.Options.Add(output);
        export.SetAction((parse, ct) => StartupErrors.GuardAsync(async () =>
        {
            if (!TryParseTime(parse.GetValue(from), 0, out long fromMs) || !TryParseTime(parse.GetValue(to), long.MaxValue, out long toMs))
            {
                await Console.Error.WriteLineAsync("moltbot: --from/--to must be an ISO 8601 date/time (e.g. 2026-01-31 or 2026-01-31T12:00:00Z) or Unix milliseconds.");
                return 2;
            }
            var context = SecurityCliContext.Load(parse.UnmatchedTokens.ToArray());
            string? path = parse.GetValue(output);
            int n;
            if (path is null)
            {
                n = await AuditVerifier.ExportAsync(context.AuditPath, fromMs, toMs, Console.Out, ct);
            }
            else
            {
                await using var writer = new StreamWriter(path);
                n = await AuditVerifier.ExportAsync(context.AuditPath, fromMs, toMs, writer, ct);
            }
            await Console.Error.WriteLineAsync($"exported {n} record(s)");
            return 0;
        }));

        audit.Subcommands.Add(verify);
        audit.Subcommands.Add(export);
        return audit;
    }

    public static bool TryParseTime(string? value, long fallback, out long ms)
    {
        ms = fallback;
        if (string.IsNullOrWhiteSpace(value)) return true;
        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out ms)) return true;
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
        {
            ms = t.ToUnixTimeMilliseconds();
            return true;
        }
        return false;
    }
}
