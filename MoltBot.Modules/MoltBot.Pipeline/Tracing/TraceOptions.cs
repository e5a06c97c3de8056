using System.ComponentModel.DataAnnotations;

namespace MoltBot.Pipeline.Tracing;

/// <summary>Configuration section "Trace": per-conversation JSONL traces for replay and perf.</summary>
public sealed class TraceOptions
{
    public const string Section = "Trace";

    /// <summary>Off by default: traces hold (masked) message text.</summary>
    public bool Enabled { get; set; }

    /// <summary>Where trace files go; relative paths resolve under Storage:DataDirectory. One file per conversation.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Trace:Directory must be a directory path (default \"traces\").")]
    public string Directory { get; set; } = "traces";

    [Range(16, 1_000_000, ErrorMessage = "Trace:BufferCapacity must be between 16 and 1000000 (events).")]
    public int BufferCapacity { get; set; } = 10_000;
}
