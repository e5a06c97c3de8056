using System.Text.Json;
using System.Text.Json.Nodes;
using MoltBot.Contracts.Diagnostics;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.Hosting;

namespace MoltBot.DevTools;

/// <summary>
/// Re-executes the inputs of a recorded trace against the current build — fresh data directory, a clock set to
/// each message's recorded time, the recorded seeds — and compares each message's decisions and reply with the
/// recording. Used by `moltbot replay TRACE` (exit 1 on any difference), so traces work as regression tests.
/// </summary>
public sealed class TraceReplayer
{
    /// <summary>Stages whose data are decisions (compared); timings and ids are not.</summary>
    private static readonly HashSet<string> DecisionStages =
        [TraceStages.Nlu, TraceStages.Dialog, TraceStages.Skill, TraceStages.Generation, TraceStages.Reply];

    /// <summary>Fields that legitimately change between runs (timings, hashes of timing-dependent data).</summary>
    private static readonly HashSet<string> VolatileFields = new(StringComparer.OrdinalIgnoreCase)
    {
        "elapsedMs", "latencyMs", "durationMs", "timestampMs", "tokensPerSecond", "queueWaitMs",
    };

    public sealed record Difference(string MessageId, string Stage, string Expected, string Actual);

    public sealed record Result(int Messages, IReadOnlyList<Difference> Differences);

    /// <param name="configure">Extra service registrations (tests use it to swap the handler).</param>
    public async Task<Result> ReplayAsync(IReadOnlyList<TraceEvent> recorded, string[] hostArgs, CancellationToken cancellationToken,
        Action<WebApplicationBuilder>? configure = null)
    {
        var inputs = recorded.Where(e => e.Stage == TraceStages.Received && e.Data?["envelope"] is not null)
            .Select(e => (Event: e, Envelope: e.Data!["envelope"].Deserialize<Envelope>(new JsonSerializerOptions(JsonSerializerDefaults.Web))!))
            .ToList();
        if (inputs.Count == 0) throw new InvalidDataException("the trace holds no 'received' events: nothing to replay");

        string work = Directory.CreateTempSubdirectory("moltbot-replay").FullName;
        try
        {
            var clock = new ReplayClock(DateTimeOffset.FromUnixTimeMilliseconds(inputs[0].Envelope.TimestampMs));
            string traceDir = Path.Combine(work, "traces");
            string[] args =
            [
                .. hostArgs, "--urls", "http://127.0.0.1:0", "--Storage:DataDirectory", Path.Combine(work, "data"),
                "--Trace:Enabled", "true", "--Trace:Directory", traceDir, "--Log:File", "false",
            ];
            var app = MoltBotApp.Build(new MoltBotAppOptions
            {
                Args = args,
                Configure = b =>
                {
                    b.Services.AddSingleton<TimeProvider>(clock);
                    configure?.Invoke(b);
                },
            });
            await using (app.ConfigureAwait(false))
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
                var handler = app.Services.GetRequiredService<IMessageHandler>();
                var trace = app.Services.GetRequiredService<ITraceRecorder>();
                foreach (var (_, envelope) in inputs)
                {
                    clock.Set(DateTimeOffset.FromUnixTimeMilliseconds(envelope.TimestampMs));
                    var reply = new CapturingReplyWriter(envelope.Language);
                    try
                    {
                        await handler.HandleAsync(envelope, reply, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        reply.Fail(); // recorded as an error, as the pipeline would have answered with an apology
                    }
                    // The replayed reply is recorded like the pipeline would, so it is compared like any other stage.
                    trace.Record(new TraceEvent(envelope.Platform + ":" + envelope.ConversationId, envelope.Id, TraceStages.Reply,
                        clock.GetUtcNow().ToUnixTimeMilliseconds(), null, reply.ToTraceData()));
                }
                await app.StopAsync(cancellationToken).ConfigureAwait(false);
            }
            var replayed = Directory.Exists(traceDir) ? await TraceFile.ReadAsync(traceDir, cancellationToken).ConfigureAwait(false) : [];
            return new Result(inputs.Count, Compare(recorded, replayed, inputs.Select(i => i.Envelope.Id)));
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    public static IReadOnlyList<Difference> Compare(IEnumerable<TraceEvent> expected, IEnumerable<TraceEvent> actual, IEnumerable<string> messageIds)
    {
        var exp = Decisions(expected);
        var act = Decisions(actual);
        var diffs = new List<Difference>();
        foreach (var id in messageIds)
        {
            var e = exp.GetValueOrDefault(id) ?? [];
            var a = act.GetValueOrDefault(id) ?? [];
            foreach (var stage in e.Keys.Union(a.Keys).Order(StringComparer.Ordinal))
            {
                string es = e.GetValueOrDefault(stage) ?? "(missing)";
                string @as = a.GetValueOrDefault(stage) ?? "(missing)";
                if (es != @as) diffs.Add(new Difference(id, stage, es, @as));
            }
        }
        return diffs;
    }

    /// <summary>message id → stage → canonical JSON of that stage's decision data (several events per stage joined).</summary>
    private static Dictionary<string, Dictionary<string, string>> Decisions(IEnumerable<TraceEvent> events)
    {
        var result = new Dictionary<string, Dictionary<string, string>>();
        foreach (var e in events.Where(e => DecisionStages.Contains(e.Stage)))
        {
            if (!result.TryGetValue(e.MessageId, out var stages)) result[e.MessageId] = stages = [];
            string canonical = Canonical(e.Data);
            stages[e.Stage] = stages.TryGetValue(e.Stage, out var prior) ? prior + "\n" + canonical : canonical;
        }
        return result;
    }

    private static string Canonical(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.Where(kv => !VolatileFields.Contains(kv.Key))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => JsonSerializer.Serialize(kv.Key, Readable) + ":" + Canonical(kv.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        null => "null",
        _ => node.ToJsonString(Readable),
    };

    /// <summary>Diffs are read by people: keep "&gt;", quotes and CJK as they are.</summary>
    private static readonly JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Collects what a handler writes, in the shape the pipeline traces replies.</summary>
    private sealed class CapturingReplyWriter(string? envelopeLanguage) : IReplyWriter
    {
        private Reply? _final;
        private bool _failed;

        public void Fail() => _failed = true;
        public bool Completed => _final is not null;
        public ValueTask TypingAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public ValueTask DeltaAsync(string text, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask FinalAsync(Reply reply, CancellationToken cancellationToken)
        {
            _final = reply;
            return ValueTask.CompletedTask;
        }

        public JsonObject ToTraceData() => _final is null || _failed
            ? new JsonObject { ["kind"] = OutboundKind.Error.ToString(), ["text"] = null, ["source"] = null, ["language"] = null }
            : new JsonObject
            {
                ["kind"] = OutboundKind.Final.ToString(), ["text"] = _final.Text, ["source"] = _final.Source,
                ["language"] = _final.Language ?? envelopeLanguage,
            };
    }
}
