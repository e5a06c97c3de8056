using Microsoft.Extensions.Logging.Abstractions;
using MoltBot.Contracts.Security;
using MoltBot.Security.Audit;

namespace MoltBot.Tests.Security;

public sealed class AuditLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("moltbot-audit").FullName;
    private string FilePath => Path.Combine(_dir, "audit.jsonl");

    private async Task WriteAsync(int count, long baseTs = 1_700_000_000_000)
    {
        await using var log = new AuditLog(FilePath, 8, TimeProvider.System, NullLogger<AuditLog>.Instance);
        await log.StartAsync(default);
        // Concurrent appenders: the bounded channel serializes them into one valid chain.
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            await log.AppendAsync(new AuditEntry("apikey:ab12cd34", "admin", "model.generate", "web:conv" + i)
            {
                TimestampMs = baseTs + i,
                Model = "student-int8",
                LatencyMs = 12.5,
                InputTokens = 10 + i,
                OutputTokens = 20,
                InputHash = AuditRecord.HashText("in " + i),
                OutputHash = AuditRecord.HashText("out " + i),
            }, ct));
    }

    [Fact]
    public async Task Concurrent_appends_form_one_intact_chain_and_survive_a_restart()
    {
        await WriteAsync(200);
        await WriteAsync(50, baseTs: 1_800_000_000_000);
        var lines = await File.ReadAllLinesAsync(FilePath);
        Assert.Equal(250, lines.Length);
        Assert.Equal(Enumerable.Range(1, 250).Select(i => (long)i), lines.Select(l => AuditRecord.Parse(l)!.Seq));
        var result = await AuditVerifier.VerifyAsync(FilePath, default);
        Assert.True(result.Ok, result.Message);
        Assert.Equal(250, result.Records);
    }

    [Fact]
    public async Task Altered_record_is_reported_at_its_line()
    {
        await WriteAsync(20);
        var lines = await File.ReadAllLinesAsync(FilePath);
        lines[6] = lines[6].Replace("\"inputTokens\":", "\"inputTokens\":1", StringComparison.Ordinal);
        await File.WriteAllLinesAsync(FilePath, lines);
        var result = await AuditVerifier.VerifyAsync(FilePath, default);
        Assert.False(result.Ok);
        Assert.Equal(7, result.BrokenLine);
        Assert.Contains("altered", result.Message);
    }

    [Fact]
    public async Task Removed_record_is_reported_at_the_next_line()
    {
        await WriteAsync(20);
        var lines = (await File.ReadAllLinesAsync(FilePath)).ToList();
        lines.RemoveAt(9);
        await File.WriteAllLinesAsync(FilePath, lines);
        var result = await AuditVerifier.VerifyAsync(FilePath, default);
        Assert.False(result.Ok);
        Assert.Equal(10, result.BrokenLine);
        Assert.Contains("removed, inserted or reordered", result.Message);
    }

    [Fact]
    public async Task Reordered_records_are_reported()
    {
        await WriteAsync(20);
        var lines = await File.ReadAllLinesAsync(FilePath);
        (lines[3], lines[4]) = (lines[4], lines[3]);
        await File.WriteAllLinesAsync(FilePath, lines);
        var result = await AuditVerifier.VerifyAsync(FilePath, default);
        Assert.False(result.Ok);
        Assert.Equal(4, result.BrokenLine);
    }

    [Fact]
    public async Task Records_cut_from_the_end_disagree_with_the_head()
    {
        await WriteAsync(20);
        var lines = await File.ReadAllLinesAsync(FilePath);
        await File.WriteAllLinesAsync(FilePath, lines[..^2]);
        var result = await AuditVerifier.VerifyAsync(FilePath, default);
        Assert.False(result.Ok);
        Assert.Contains("head file records seq 20", result.Message);
    }

    private static AuditEntry Entry(int i) => new("system", "system", "model.nlu", "student-nlu") { TimestampMs = 1_700_000_000_000 + i, InputTokens = i };

    [Fact]
    public async Task Without_a_sync_interval_every_append_is_fsynced_before_it_completes()
    {
        await using var log = new AuditLog(FilePath, 8, TimeProvider.System, NullLogger<AuditLog>.Instance);
        await log.StartAsync(default);
        for (int i = 0; i < 20; i++) await log.AppendAsync(Entry(i), default);
        Assert.Equal(20, log.Fsyncs); // one at a time: one batch, one fsync each
    }

    [Fact]
    public async Task With_a_sync_interval_appends_complete_unsynced_and_the_log_is_fsynced_when_idle_and_at_the_end()
    {
        var log = new AuditLog(FilePath, 8, TimeProvider.System, NullLogger<AuditLog>.Instance, TimeSpan.FromSeconds(30));
        await log.StartAsync(default);
        for (int i = 0; i < 20; i++) await log.AppendAsync(Entry(i), default);
        Assert.Equal(0, log.Fsyncs); // all written to the OS, none fsynced yet (the interval is long)
        Assert.Equal(20, (await File.ReadAllLinesAsync(FilePath)).Length);
        await log.DisposeAsync();
        Assert.Equal(1, log.Fsyncs); // the last fsync at the end

        await using var idle = new AuditLog(FilePath, 8, TimeProvider.System, NullLogger<AuditLog>.Instance, TimeSpan.FromMilliseconds(50));
        await idle.StartAsync(default);
        await idle.AppendAsync(Entry(20), default);
        for (int i = 0; i < 500 && idle.Fsyncs == 0; i++) await Task.Delay(20);
        Assert.Equal(1, idle.Fsyncs); // fsynced once the queue was idle for the interval
        var result = await AuditVerifier.VerifyAsync(FilePath, default);
        Assert.True(result.Ok, result.Message);
        Assert.Equal(21, result.Records);
    }

    /// <summary>
    /// The writer keeps the chain's tail it last wrote and reads the file's tail back only when the file changed under
    /// it (the CLI appended): the chain stays one intact sequence either way.
    /// </summary>
    [Fact]
    public async Task The_tail_is_read_back_only_after_another_writer_appended()
    {
        await using var server = new AuditLog(FilePath, 8, TimeProvider.System, NullLogger<AuditLog>.Instance);
        await server.StartAsync(default);
        for (int i = 0; i < 10; i++) await server.AppendAsync(Entry(i), default);
        Assert.Equal(1, server.TailReads); // once at start

        await using (var cli = new AuditLog(FilePath, 8, TimeProvider.System, NullLogger<AuditLog>.Instance))
        {
            await cli.StartAsync(default);
            await cli.AppendAsync(new AuditEntry("cli", "admin", "cli.apikeys.create", "key"), default);
        }
        await server.AppendAsync(Entry(10), default);
        Assert.Equal(2, server.TailReads); // the file grew under it: its tail was read back
        await server.AppendAsync(Entry(11), default);
        Assert.Equal(2, server.TailReads);

        var lines = await File.ReadAllLinesAsync(FilePath);
        Assert.Equal(Enumerable.Range(1, 13).Select(i => (long)i), lines.Select(l => AuditRecord.Parse(l)!.Seq));
        Assert.Equal("cli.apikeys.create", AuditRecord.Parse(lines[10])!.Action);
        var result = await AuditVerifier.VerifyAsync(FilePath, default);
        Assert.True(result.Ok, result.Message);
        Assert.Equal(13, result.Records);
    }

    [Fact]
    public async Task A_tail_record_longer_than_the_first_read_chunk_still_extends_the_chain()
    {
        // The writer finds the chain's tail by reading backwards in growing chunks (4 KB first): a 20 KB last record
        // needs several of them, and the records after it must still chain onto it.
        await WriteAsync(5);
        await using (var log = new AuditLog(FilePath, 8, TimeProvider.System, NullLogger<AuditLog>.Instance))
        {
            await log.StartAsync(default);
            await log.AppendAsync(new AuditEntry("system", "admin", "model.generate", "target-" + new string('x', 20_000)), default);
        }
        await WriteAsync(3, baseTs: 1_800_000_000_000);
        var lines = await File.ReadAllLinesAsync(FilePath);
        Assert.Equal(9, lines.Length);
        Assert.True(lines[5].Length > 20_000);
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (long)i), lines.Select(l => AuditRecord.Parse(l)!.Seq));
        var result = await AuditVerifier.VerifyAsync(FilePath, default);
        Assert.True(result.Ok, result.Message);
    }

    [Fact]
    public async Task A_damaged_tail_stops_the_writer_with_a_clear_message()
    {
        await WriteAsync(3);
        await File.AppendAllTextAsync(FilePath, "{\"seq\":4,\"broken\n");
        await using var log = new AuditLog(FilePath, 8, TimeProvider.System, NullLogger<AuditLog>.Instance);
        var ex = await Assert.ThrowsAsync<MoltBot.Contracts.Configuration.StartupException>(() => log.StartAsync(default));
        Assert.Contains("audit verify", ex.Message);
    }

    [Fact]
    public async Task Export_writes_the_range_as_json_lines_and_records_hold_no_raw_text()
    {
        await WriteAsync(100);
        var writer = new StringWriter();
        int n = await AuditVerifier.ExportAsync(FilePath, 1_700_000_000_010, 1_700_000_000_020, writer, default);
        Assert.Equal(10, n);
        var exported = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => AuditRecord.Parse(l)!).ToList();
        Assert.Equal(Enumerable.Range(10, 10).Select(i => 1_700_000_000_000L + i), exported.Select(r => r.Ts).Order());
        Assert.All(exported, r => Assert.Equal(64, r.InputHash!.Length));
        Assert.DoesNotContain("in 1", await File.ReadAllTextAsync(FilePath));
    }

    [Fact]
    public async Task Personal_data_in_audit_targets_is_masked()
    {
        await using (var log = new AuditLog(FilePath, 8, TimeProvider.System, NullLogger<AuditLog>.Instance))
        {
            await log.AppendAsync(new AuditEntry("system", "admin", "admin.users.delete", "userKey=whatsapp:+44 20 7946 0958"), default);
        }
        string text = await File.ReadAllTextAsync(FilePath);
        Assert.DoesNotContain("7946", text);
        Assert.Contains("⟦PHONE⟧", text);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
