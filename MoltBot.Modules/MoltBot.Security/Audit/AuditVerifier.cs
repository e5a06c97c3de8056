using System.Text.Json;

namespace MoltBot.Security.Audit;

/// <param name="Records">Records that verified before the first broken link (all of them when <see cref="Ok"/>).</param>
/// <param name="BrokenLine">1-based line of the first broken link, or null.</param>
public sealed record AuditVerification(bool Ok, long Records, long? BrokenLine, string Message);

/// <summary>
/// Walks the chain from the start: each record's hash must match its content, its prev must be the previous
/// record's hash and its seq the previous seq + 1. An altered record breaks its own hash; a removed or reordered
/// one breaks the next record's prev; records cut off the end disagree with the head file.
/// </summary>
public static class AuditVerifier
{
    public static async Task<AuditVerification> VerifyAsync(string filePath, CancellationToken cancellationToken)
    {
        if (!File.Exists(filePath)) return new AuditVerification(true, 0, null, $"no audit log at {filePath} (nothing recorded yet)");
        string prev = AuditRecord.GenesisHash;
        long seq = 0;
        long line = 0;
        using var reader = await OpenReaderAsync(filePath, cancellationToken).ConfigureAwait(false);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } text)
        {
            line++;
            if (text.Length == 0) return Broken(line, seq, "empty line");
            AuditRecord? record;
            try
            {
                record = AuditRecord.Parse(text);
            }
            catch (JsonException ex)
            {
                return Broken(line, seq, "not a valid record: " + ex.Message);
            }
            if (record?.Hash is null) return Broken(line, seq, "record has no hash");
            if (record.Hash != record.ComputeHash()) return Broken(line, seq, $"record seq {record.Seq} was altered (its hash does not match its content)");
            if (record.Prev != prev)
                return Broken(line, seq, $"record seq {record.Seq} does not follow the previous record (prev hash mismatch): a record before it was removed, inserted or reordered");
            if (record.Seq != seq + 1) return Broken(line, seq, $"sequence jumps from {seq} to {record.Seq}");
            prev = record.Hash;
            seq = record.Seq;
        }

        string head = AuditLog.HeadPathFor(filePath);
        if (File.Exists(head))
        {
            var parts = (await File.ReadAllTextAsync(head, cancellationToken).ConfigureAwait(false)).Trim().Split(' ');
            if (parts.Length == 2 && long.TryParse(parts[0], out long headSeq) && (headSeq != seq || parts[1] != prev))
                return new AuditVerification(false, seq, line + 1,
                    $"the log ends at seq {seq} but the head file records seq {headSeq}: records at the end were removed or the head was altered");
        }
        return new AuditVerification(true, seq, null, $"OK: {seq} record(s), chain intact, head {prev[..16]}…");
    }

    private static AuditVerification Broken(long line, long verified, string why) =>
        new(false, verified, line, $"first broken link at line {line}: {why} ({verified} record(s) before it verified)");

    /// <summary>Writes the records with from ≤ ts &lt; to (ms since the epoch, UTC) as JSON lines; returns how many.</summary>
    public static async Task<int> ExportAsync(string filePath, long fromMs, long toMs, TextWriter output, CancellationToken cancellationToken)
    {
        if (!File.Exists(filePath)) return 0;
        int n = 0;
        using var reader = await OpenReaderAsync(filePath, cancellationToken).ConfigureAwait(false);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } text)
        {
            if (text.Length == 0) continue;
            AuditRecord? record;
            try
            {
                record = AuditRecord.Parse(text);
            }
            catch (JsonException)
            {
                continue; // `audit verify` reports damage; export keeps going with what is readable
            }
            if (record is null || record.Ts < fromMs || record.Ts >= toMs) continue;
            await output.WriteLineAsync(text).ConfigureAwait(false);
            n++;
        }
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return n;
    }

    /// <summary>Reads the last <paramref name="take"/> records in the range (for the admin API).</summary>
    public static async Task<IReadOnlyList<AuditRecord>> ReadAsync(string filePath, long fromMs, long toMs, int take, CancellationToken cancellationToken)
    {
        var result = new Queue<AuditRecord>();
        if (!File.Exists(filePath)) return [];
        using var reader = await OpenReaderAsync(filePath, cancellationToken).ConfigureAwait(false);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } text)
        {
            if (text.Length == 0) continue;
            try
            {
                if (AuditRecord.Parse(text) is { } r && r.Ts >= fromMs && r.Ts < toMs)
                {
                    result.Enqueue(r);
                    if (result.Count > take) result.Dequeue();
                }
            }
            catch (JsonException)
            {
            }
        }
        return result.ToList();
    }

    /// <summary>The writer holds an exclusive lock for the moment of an append; readers wait for it.</summary>
    private static async Task<StreamReader> OpenReaderAsync(string filePath, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return new StreamReader(new FileStream(filePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            }
            catch (IOException) when (attempt < 200 && File.Exists(filePath))
            {
                await Task.Delay(25, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
