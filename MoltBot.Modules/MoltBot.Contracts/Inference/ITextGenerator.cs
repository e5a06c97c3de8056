namespace MoltBot.Contracts.Inference;

/// <summary>Reply generation by the in-process language models, streamed token by token.</summary>
public interface ITextGenerator
{
    IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken);
}

/// <param name="Role">"system", "user" or "assistant".</param>
public sealed record ChatMessage(string Role, string Content);

public sealed record GenerationRequest(IReadOnlyList<ChatMessage> Messages)
{
    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>"auto" (the configured dual-engine policy), "student" or "teacher".</summary>
    public string Model { get; init; } = "auto";
}

public sealed record SamplingOptions
{
    /// <summary>0 means greedy.</summary>
    public float Temperature { get; init; }
    public int TopK { get; init; }
    public float TopP { get; init; } = 1f;
    public float RepetitionPenalty { get; init; } = 1f;
    public int MaxNewTokens { get; init; } = 64;
    public IReadOnlyList<string> Stop { get; init; } = [];
    public long? Seed { get; init; }
}

/// <param name="Text">The decoded text this token adds (may be empty for partial UTF-8 sequences).</param>
/// <param name="LogProb">Natural-log probability of the token under the model that produced it.</param>
public sealed record GeneratedToken(string Text, float LogProb)
{
    public int TokenId { get; init; }

    /// <summary>Set on the last token: "stop", "length" or "cancelled".</summary>
    public string? FinishReason { get; init; }

    public string Model { get; init; } = "";
}

/// <summary>The models the process serves (for /v1/models, /readyz and the admin API).</summary>
public interface IModelCatalog
{
    IReadOnlyList<ModelInfo> Models { get; }
}

/// <param name="Kind">"nlu" or "lm".</param>
/// <param name="Precision">"fp32", "bf16" or "int8".</param>
public sealed record ModelInfo(string Id, string Kind, string Precision, long Parameters, bool Loaded)
{
    public string? Path { get; init; }
    public string? Kernel { get; init; }
}
