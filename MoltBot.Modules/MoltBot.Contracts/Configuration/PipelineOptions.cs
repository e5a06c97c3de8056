using System.ComponentModel.DataAnnotations;

namespace MoltBot.Contracts.Configuration;

/// <summary>Configuration section "Pipeline": queue capacities, shard workers and shutdown drain.</summary>
public sealed class PipelineOptions
{
    public const string Section = "Pipeline";

    [Range(1, 1_000_000, ErrorMessage = "Pipeline:InboundCapacity must be between 1 and 1000000 (messages).")]
    public int InboundCapacity { get; set; } = 10_000;

    [Range(1, 256, ErrorMessage = "Pipeline:ShardCount must be between 1 and 256.")]
    public int ShardCount { get; set; } = 32;

    [Range(1, 1_000_000, ErrorMessage = "Pipeline:ShardCapacity must be between 1 and 1000000 (messages per shard).")]
    public int ShardCapacity { get; set; } = 1_000;

    [Range(1, 1_000_000, ErrorMessage = "Pipeline:OutboundCapacity must be between 1 and 1000000 (events).")]
    public int OutboundCapacity { get; set; } = 10_000;

    [Range(1, 64, ErrorMessage = "Pipeline:OutboundSenders must be between 1 and 64.")]
    public int OutboundSenders { get; set; } = 2;

    /// <summary>How long shutdown waits for in-flight messages before persisting the rest for the next start.</summary>
    [Range(0, 3600, ErrorMessage = "Pipeline:DrainTimeoutSeconds must be between 0 and 3600.")]
    public int DrainTimeoutSeconds { get; set; } = 10;

    /// <summary>Upper bound for one handler call; a slower one is cancelled and answered with an apology.</summary>
    [Range(1, 3600, ErrorMessage = "Pipeline:HandlerTimeoutSeconds must be between 1 and 3600.")]
    public int HandlerTimeoutSeconds { get; set; } = 60;

    /// <summary>How many platform message ids are remembered for de-duplication.</summary>
    [Range(0, 10_000_000, ErrorMessage = "Pipeline:DedupWindow must be between 0 and 10000000 (ids).")]
    public int DedupWindow { get; set; } = 100_000;

    /// <summary>
    /// A handler's typing event goes out only if its reply is not written within this many milliseconds (a streamed
    /// delta sends it at once, before the delta). A reply that is ready sooner needs no indicator, and skipping it saves
    /// a frame, a platform call and the client's wake-up. 0: typing goes out at once, as before.
    /// </summary>
    [Range(0, 10_000, ErrorMessage = "Pipeline:TypingDelayMilliseconds must be between 0 (send at once) and 10000.")]
    public int TypingDelayMilliseconds { get; set; } = 200;
}
