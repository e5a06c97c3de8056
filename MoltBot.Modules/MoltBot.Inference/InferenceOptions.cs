using System.ComponentModel.DataAnnotations;

namespace MoltBot.Inference;

/// <summary>Configuration section "Inference": devices, model folders, dual-engine policy, batching.</summary>
public sealed class InferenceOptions : IValidatableObject
{
    public const string Section = "Inference";

    /// <summary>"cpu", "cuda" or "auto" (cuda when available).</summary>
    [RegularExpression("^(cpu|cuda|auto)$", ErrorMessage = "Inference:Device must be cpu, cuda or auto.")]
    public string Device { get; set; } = "cpu";

    /// <summary>Torch intra-op threads; 0 = number of cores.</summary>
    [Range(0, 256, ErrorMessage = "Inference:Threads must be between 0 (all cores) and 256.")]
    public int Threads { get; set; }

    /// <summary>Folder names under Models:Directory; an empty name disables that model.</summary>
    public string TeacherNlu { get; set; } = "teacher-nlu";
    public string StudentNlu { get; set; } = "student-nlu";
    public string TeacherLm { get; set; } = "teacher-lm";
    public string StudentLm { get; set; } = "student-lm";

    /// <summary>"auto" (fbgemm when it works, else weight-only), "fbgemm" or "weight-only".</summary>
    [RegularExpression("^(auto|fbgemm|weight-only)$", ErrorMessage = "Inference:Int8Kernel must be auto, fbgemm or weight-only.")]
    public string Int8Kernel { get; set; } = "auto";

    /// <summary>
    /// "fp32" or "bf16": precision of the teacher models' projections. BF16 halves their weight memory and runs BF16
    /// GEMMs (fast with AMX / AVX-512 BF16; emulated, and slower, on CPUs without them: a start-up warning says so).
    /// </summary>
    [RegularExpression("^(fp32|bf16)$", ErrorMessage = "Inference:TeacherPrecision must be fp32 or bf16.")]
    public string TeacherPrecision { get; set; } = "fp32";

    /// <summary>glibc malloc arenas for the process (bounds the memory libtorch's allocations keep per thread); 0 = glibc default.</summary>
    [Range(0, 64, ErrorMessage = "Inference:MallocArenas must be between 0 (glibc default) and 64.")]
    public int MallocArenas { get; set; } = 2;

    /// <summary>
    /// When the secondary models start loading (so their loads run without it) and again once every model is loaded, ask
    /// the kernel to reclaim libtorch's resident code pages (most only ran its start-up operator registration) and those
    /// of a composite ReadyToRun image; the ones serving uses fault back in. Lowers resident memory by ≈ 40 MB (JIT
    /// build) to ≈ 60 MB (published build).
    /// </summary>
    public bool ReleaseStartupCodePages { get; set; } = true;

    /// <summary>
    /// Start-up loads the primary NLU model first; the other three models wait until the first reply has been sent, a
    /// request needs one of them (escalation to the teacher, generation, reload), or this many milliseconds have passed
    /// since the primary model was ready — so they do not compete with the first reply for the CPU. 0 loads them at once.
    /// /readyz reports them as loading meanwhile, and start-up still fails if one of them cannot be loaded.
    /// </summary>
    [Range(0, 600_000, ErrorMessage = "Inference:SecondaryLoadDelayMs must be between 0 (load at once) and 600000 ms.")]
    public int SecondaryLoadDelayMs { get; set; } = 1000;

    /// <summary>Keep serving with the remaining models when a folder is missing or corrupt (default: refuse to start).</summary>
    public bool ContinueWithoutBrokenModel { get; set; }

    /// <summary>"escalate" (student first, teacher below the threshold), "student" or "teacher".</summary>
    [RegularExpression("^(escalate|student|teacher)$", ErrorMessage = "Inference:NluPolicy must be escalate, student or teacher.")]
    public string NluPolicy { get; set; } = "escalate";

    /// <summary>Student intent probability below which the teacher answers.</summary>
    [Range(0.0, 1.0, ErrorMessage = "Inference:NluEscalationThreshold must be between 0 and 1.")]
    public double NluEscalationThreshold { get; set; } = 0.6;

    /// <summary>"escalate", "speculative", "student" or "teacher".</summary>
    [RegularExpression("^(escalate|speculative|student|teacher)$", ErrorMessage = "Inference:LmPolicy must be escalate, speculative, student or teacher.")]
    public string LmPolicy { get; set; } = "escalate";

    /// <summary>Mean token log-probability of the student's reply below which the teacher regenerates it.</summary>
    [Range(-100.0, 0.0, ErrorMessage = "Inference:LmEscalationMeanLogProb must be between -100 and 0.")]
    public double LmEscalationMeanLogProb { get; set; } = -2.5;

    [Range(1, 16, ErrorMessage = "Inference:SpeculativeDraftTokens must be between 1 and 16.")]
    public int SpeculativeDraftTokens { get; set; } = 4;

    /// <summary>
    /// Run NLU batches and KV-cached decode steps as one compiled TorchScript graph per call (FP32 and INT8 models on
    /// the CPU); false runs the eager modules (slower: per-op overhead dominates at these model sizes).
    /// </summary>
    public bool CompiledGraph { get; set; } = true;

    [Range(1, 1024, ErrorMessage = "Inference:NluMaxBatch must be between 1 and 1024.")]
    public int NluMaxBatch { get; set; } = 64;

    /// <summary>
    /// Padded token rows per NLU forward pass: a batch is sorted by length and cut into passes of at most this many
    /// rows (less padding, activations that stay in cache); one utterance longer than this still runs alone.
    /// </summary>
    [Range(16, 65536, ErrorMessage = "Inference:NluChunkTokens must be between 16 and 65536 (padded token rows per forward pass).")]
    public int NluChunkTokens { get; set; } = 512;

    /// <summary>How long a forming batch waits for more requests (only under load; a lone request runs at once).</summary>
    [Range(0, 1000, ErrorMessage = "Inference:NluMaxWaitMs must be between 0 and 1000.")]
    public int NluMaxWaitMs { get; set; } = 2;

    /// <summary>
    /// A request that finds the NLU queue empty and the model idle runs on the caller's thread instead of waking the
    /// worker and waking the caller again (two thread hand-offs at light load). Under load requests queue as before.
    /// Off by default: each caller thread that runs torch gets its own OpenMP team, so inline runs from many pool threads
    /// cut batched NLU throughput 15× (388 vs 5,682 utterances/s at 64 callers, `MoltBot.Bench inference nlu`) and
    /// gained nothing measurable end to end at one user.
    /// </summary>
    public bool NluInline { get; set; }

    /// <summary>Sequences decoded together per model (= KV cache slots).</summary>
    [Range(1, 256, ErrorMessage = "Inference:LmMaxBatch must be between 1 and 256.")]
    public int LmMaxBatch { get; set; } = 8;

    /// <summary>Prompt + reply tokens per sequence (KV cache length); capped by the model's max_position_embeddings.</summary>
    [Range(16, 32768, ErrorMessage = "Inference:MaxSequenceLength must be between 16 and 32768.")]
    public int MaxSequenceLength { get; set; } = 512;

    [Range(1, 100_000, ErrorMessage = "Inference:QueueCapacity must be between 1 and 100000 (requests).")]
    public int QueueCapacity { get; set; } = 1024;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (key, value) in new[] { ("TeacherNlu", TeacherNlu), ("StudentNlu", StudentNlu), ("TeacherLm", TeacherLm), ("StudentLm", StudentLm) })
        {
            if (value.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || value.Contains(".."))
                yield return new ValidationResult($"Inference:{key} must be a folder name under Models:Directory (got '{value}').");
        }
        if (string.IsNullOrEmpty(TeacherNlu) && string.IsNullOrEmpty(StudentNlu) && string.IsNullOrEmpty(TeacherLm) && string.IsNullOrEmpty(StudentLm))
            yield return new ValidationResult("Inference: at least one of TeacherNlu, StudentNlu, TeacherLm, StudentLm must name a model folder.");
    }
}
