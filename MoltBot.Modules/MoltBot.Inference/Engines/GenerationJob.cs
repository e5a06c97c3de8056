using System.Threading.Channels;
using MoltBot.Contracts.Inference;

namespace MoltBot.Inference.Engines;

/// <summary>One sequence being generated: its prompt, sampling state, KV slot and the stream its tokens go to.</summary>
internal sealed class GenerationJob
{
    public GenerationJob(IReadOnlyList<int> prompt, SamplingOptions sampling, int maxNewTokens, CancellationToken cancellationToken)
    {
        Prompt = prompt;
        Sampling = sampling;
        MaxNewTokens = maxNewTokens;
        CancellationToken = cancellationToken;
        Random = sampling.Seed is { } s ? new Random(unchecked((int)s ^ (int)(s >> 32))) : new Random();
        Seen = new HashSet<int>(prompt);
        // Capacity covers every token the job can produce, so the decode loop never waits on a slow reader.
        Output = Channel.CreateBounded<GeneratedToken>(new BoundedChannelOptions(maxNewTokens + 2) { SingleWriter = true, SingleReader = true });
    }

    public IReadOnlyList<int> Prompt { get; }
    public SamplingOptions Sampling { get; }
    public int MaxNewTokens { get; }
    public CancellationToken CancellationToken { get; }
    public Random Random { get; }
    public HashSet<int> Seen { get; }
    public Channel<GeneratedToken> Output { get; }
    public List<int> Generated { get; } = [];
    public double LogProbSum { get; set; }
    internal TokenTextStream? Text { get; set; }

    /// <summary>KV cache slot while running; -1 otherwise.</summary>
    public int Slot { get; set; } = -1;
    /// <summary>Tokens already in the KV cache.</summary>
    public int Position { get; set; }
    /// <summary>The sampled token not yet fed to the model.</summary>
    public int Pending { get; set; }
    public string? FinishReason { get; set; }
}
