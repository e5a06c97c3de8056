using System.Text.Json.Nodes;

namespace MoltBot.Contracts.Diagnostics;

/// <summary>
/// Optional per-conversation trace (Trace:Enabled): every stage a message passes, with its data and timing,
/// written as JSON lines so `replay` can re-execute it and `perf` can break latency down. Recording must be
/// cheap and never throw; when tracing is off, <see cref="Enabled"/> is false and callers skip building data.
/// </summary>
public interface ITraceRecorder
{
    bool Enabled { get; }

    void Record(TraceEvent traceEvent);
}

/// <param name="ConversationKey">platform:conversationId — one trace file per conversation.</param>
/// <param name="MessageId">The envelope id the event belongs to.</param>
/// <param name="Stage">received, normalized, routed, nlu, dialog, skill, generation, reply, … (see TraceStages).</param>
/// <param name="ElapsedMs">How long the stage took, where it has a duration.</param>
/// <param name="Data">Stage details (intent, confidence, model, seed, prompt hash, tokens, decision, reply …).</param>
public sealed record TraceEvent(string ConversationKey, string MessageId, string Stage, long TimestampMs, double? ElapsedMs, JsonObject? Data);

public static class TraceStages
{
    public const string Received = "received";
    public const string Routed = "routed";
    public const string Nlu = "nlu";
    public const string Dialog = "dialog";
    public const string Skill = "skill";
    public const string Generation = "generation";
    public const string Reply = "reply";
}
