using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.Contracts.Security;
using MoltBot.Security.Audit;
using Xunit.Abstractions;

namespace MoltBot.Tests.Security;

public class PiiPipelineTests(ITestOutputHelper output)
{
    private const string Platform = "pii-test";

    /// <summary>Records every outbound event, as a platform would receive it.</summary>
    private sealed class RecordingAdapter : IChannelAdapter
    {
        public ConcurrentDictionary<string, OutboundMessage> Finals { get; } = new();
        public TaskCompletionSource AllDone { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Expected { get; set; }
        public string Platform => PiiPipelineTests.Platform;
        public ChannelState State => ChannelState.Connected;

        public ValueTask SendAsync(OutboundMessage message, CancellationToken cancellationToken)
        {
            if (message.Kind is OutboundKind.Final or OutboundKind.Error)
            {
                Finals[message.InReplyTo] = message;
                if (Finals.Count == Expected) AllDone.TrySetResult();
            }
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// A deliberately careless handler: logs the text and display name at Information, stores the text and the raw
    /// payload in a file under data/, records a "model call" in the audit log, and echoes the text.
    /// </summary>
    private sealed class CarelessHandler(ILogger<CarelessHandler> logger, MoltBotPaths paths, IAuditLog audit) : IMessageHandler
    {
        private readonly SemaphoreSlim _gate = new(1, 1);

        public async Task HandleAsync(Envelope envelope, IReplyWriter reply, CancellationToken cancellationToken)
        {
            logger.LogInformation("Handling {Text} from {Name} raw {Raw}", envelope.Text, envelope.UserDisplayName, envelope.Raw);
            await _gate.WaitAsync(cancellationToken);
            try
            {
                Directory.CreateDirectory(paths.Data("test-store"));
                await File.AppendAllTextAsync(paths.Data("test-store", "messages.jsonl"),
                    JsonSerializer.Serialize(new { envelope.Text, envelope.Raw, envelope.UserDisplayName }) + "\n", cancellationToken);
            }
            finally
            {
                _gate.Release();
            }
            string answer = "You said: " + envelope.Text;
            await audit.AppendAsync(new AuditEntry("user:" + envelope.UserId, "user", "model.generate", envelope.ConversationId)
            {
                Model = "echo", LatencyMs = 1, InputTokens = envelope.Text.Length, OutputTokens = answer.Length,
                InputHash = AuditRecord.HashText(envelope.Text), OutputHash = AuditRecord.HashText(answer),
            }, cancellationToken);
            await reply.FinalAsync(new Reply(answer) { Source = "echo" }, cancellationToken);
        }
    }

    [Fact]
    public async Task Thousand_conversations_with_personal_data_leave_no_raw_value_in_logs_storage_or_audit()
    {
        var adapter = new RecordingAdapter { Expected = 1000 };
        var samples = new PiiSamples(seed: 1000);
        var planted = new List<(string Type, string Value)>();
        var envelopes = new List<Envelope>();
        for (int i = 0; i < 1000; i++)
        {
            var values = Enumerable.Range(0, 1 + i % 3).Select(_ => samples.Any()).ToList();
            var email = ("EMAIL", samples.Email());
            values.Add(email);
            planted.AddRange(values);
            string text = $"msg {i}: " + string.Join(" and ", values.Select(v => v.Item2));
            envelopes.Add(new Envelope
            {
                Id = "m" + i,
                Platform = Platform,
                PlatformMessageId = "pm" + i,
                ConversationId = "conv" + i,
                UserId = "user" + i,
                UserDisplayName = $"Person {i} <{email.Item2}>",
                Text = text,
                Raw = JsonSerializer.Serialize(new { message = new { text, from = new { name = "Person", email = email.Item2 } } }),
                TimestampMs = 1_700_000_000_000 + i,
            });
        }

        await using var host = await SecurityTestHost.StartAsync(configure: b =>
        {
            b.Services.AddSingleton<IChannelAdapter>(adapter);
            b.Services.AddSingleton<IMessageHandler, CarelessHandler>();
        });
        var queue = host.Services.GetRequiredService<IInboundQueue>();
        foreach (var e in envelopes) await queue.EnqueueAsync(e, default);
        await adapter.AllDone.Task.WaitAsync(TimeSpan.FromMinutes(5));
        await host.StopAsync();

        // The user gets their email and phone back (policy), never their card, ID, IBAN, IP or secret.
        var restoredTypes = new HashSet<string> { "EMAIL", "PHONE" };
        foreach (var e in envelopes)
        {
            var final = adapter.Finals[e.Id];
            Assert.Equal(OutboundKind.Final, final.Kind);
            Assert.StartsWith($"You said: msg {e.Id[1..]}: ", final.Text);
        }
        int restored = 0, kept = 0;
        for (int i = 0; i < 1000; i++)
        {
            string reply = adapter.Finals["m" + i].Text;
            foreach (var (type, value) in PiiPipelineValues(envelopes[i], planted))
            {
                if (restoredTypes.Contains(type)) { Assert.Contains(value, reply); restored++; }
                else { Assert.DoesNotContain(value, reply); kept++; }
            }
        }
        output.WriteLine($"replies: {restored} values restored (EMAIL, PHONE), {kept} kept masked");

        // Scan every file under the content root: logs, vaults, audit log, pipeline files, the handler's store.
        var files = Directory.GetFiles(host.Root, "*", SearchOption.AllDirectories);
        var needles = planted.Select(p => p.Value).Distinct()
            .SelectMany(v => new[] { v, new string(v.Where(char.IsAsciiLetterOrDigit).ToArray()), JsonSerializer.Serialize(v)[1..^1] })
            .Where(v => v.Length >= 7).Distinct().ToList();
        long bytes = 0;
        var leaks = new List<string>();
        foreach (var file in files)
        {
            var content = await File.ReadAllBytesAsync(file);
            bytes += content.Length;
            string text = Encoding.UTF8.GetString(content);
            foreach (var needle in needles)
            {
                if (text.Contains(needle, StringComparison.OrdinalIgnoreCase)) leaks.Add($"{Path.GetRelativePath(host.Root, file)}: {needle}");
            }
        }
        output.WriteLine($"scanned {files.Length} files ({bytes} bytes) for {needles.Count} planted values: {leaks.Count} found");
        Assert.Contains(files, f => f.EndsWith(".clef", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("audit.jsonl", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("messages.jsonl", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith(".vault", StringComparison.Ordinal));
        Assert.True(leaks.Count == 0, string.Join("\n", leaks.Take(50)));
        string firstStored = (await File.ReadAllLinesAsync(Path.Combine(host.DataDirectory, "test-store", "messages.jsonl")))[0];
        Assert.Contains("⟦EMAIL_1⟧", JsonDocument.Parse(firstStored).RootElement.GetProperty("Text").GetString());
        var verification = await AuditVerifier.VerifyAsync(Path.Combine(host.DataDirectory, "audit", "audit.jsonl"), default);
        Assert.True(verification.Ok, verification.Message);
        Assert.Equal(1000, verification.Records);
    }

    private static IEnumerable<(string Type, string Value)> PiiPipelineValues(Envelope e, List<(string Type, string Value)> planted) =>
        planted.Where(p => e.Text.Contains(p.Value, StringComparison.Ordinal));
}
