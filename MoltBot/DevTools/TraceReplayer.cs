using System.Text.Json;
using System.Text.Json.Nodes;
using MoltBot.Contracts.Diagnostics;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

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

        var clock = new ReplayClock(DateTimeOffset.FromUnixTimeMilliseconds(inputs[0].Envelope.TimestampMs));
        return await OfflineHost.RunAsync(hostArgs,
            work => ["--Trace:Enabled", "true", "--Trace:Directory", Path.Combine(work, "traces")],
            b =>
            {
                b.Services.AddSingleton<TimeProvider>(clock);
                configure?.Invoke(b);
            },
            async services =>
            {
                var handler = services.GetRequiredService<IMessageHandler>();
                var trace = services.GetRequiredService<ITraceRecorder>();
                foreach (var (_, envelope) in inputs)
                {
                    clock.Set(DateTimeOffset.FromUnixTimeMilliseconds(envelope.TimestampMs));
                    var reply = new ReplyCollector();
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
                        clock.GetUtcNow().ToUnixTimeMilliseconds(), null, ReplyTraceData(reply, envelope.Language)));
                }
            },
            async work =>
            {
                // Read after the host stopped: stopping flushes the trace writer.
                string traceDir = Path.Combine(work, "traces");
                var replayed = Directory.Exists(traceDir) ? await TraceFile.ReadAsync(traceDir, cancellationToken).ConfigureAwait(false) : [];
                return new Result(inputs.Count, Compare(recorded, replayed, inputs.Select(i => i.Envelope.Id)));
            }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A reply in the shape the pipeline traces it (see Pipeline/ReplyWriter.cs).</summary>
    private static JsonObject ReplyTraceData(ReplyCollector reply, string? envelopeLanguage) => reply.Final is not { } final || reply.Failed
        ? new JsonObject { ["kind"] = OutboundKind.Error.ToString(), ["text"] = null, ["source"] = null, ["language"] = null }
        : new JsonObject
        {
            ["kind"] = OutboundKind.Final.ToString(), ["text"] = final.Text, ["source"] = final.Source,
            ["language"] = final.Language ?? envelopeLanguage,
        };

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
}
