using BenchmarkDotNet.Attributes;
using MoltBot.Security.Audit;
using MoltBot.Security.Logging;
using MoltBot.Security.Pii;

namespace MoltBot.Bench;

/// <summary>
/// Cost of the security work every message and log line pays: PII detection on a typical chat message (with and
/// without personal data), log-line redaction, and hashing one audit record.
/// `dotnet run -c Release --project MoltBot.Bench -- --filter *SecurityBenchmarks* --job short`
/// </summary>
[MemoryDiagnoser]
public class SecurityBenchmarks
{
    private const string Clean = "Hi! Can you remind me tomorrow at 9:30 to call the office about order 20240115 and version 2.3.1?";
    private const string WithPii = "Hi, I'm wei at wei.zhang@example.com or 138 1234 5678; card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32.";
    private const string LogLine = "{\"@t\":\"2026-11-23T22:00:00.000Z\",\"@mt\":\"Handling {Text}\",\"Text\":\"msg from 203.0.113.9 with token 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0\",\"SourceContext\":\"Dialog\"}";
    private readonly LogRedactor _redactor = new(["super-secret-bot-token-value", "another-configured-password"]);
    private readonly AuditRecord _record = new()
    {
        Seq = 42, Ts = 1_700_000_000_000, Actor = "apikey:ab12cd34", Role = "admin", Action = "model.generate", Target = "web:c1",
        Model = "student-int8", LatencyMs = 12.5, InputTokens = 100, OutputTokens = 50,
        InputHash = AuditRecord.HashText("in"), OutputHash = AuditRecord.HashText("out"), Prev = AuditRecord.GenesisHash,
    };

    [Benchmark(Baseline = true)]
    public int DetectClean() => PiiDetector.Find(Clean).Count;

    [Benchmark]
    public int DetectWithPii() => PiiDetector.Find(WithPii).Count;

    [Benchmark]
    public string RedactLogLine() => _redactor.Redact(LogLine);

    [Benchmark]
    public string HashAuditRecord() => _record.ComputeHash();
}
