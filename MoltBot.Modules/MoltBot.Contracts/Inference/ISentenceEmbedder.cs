namespace MoltBot.Contracts.Inference;

/// <summary>Sentence embeddings from the NLU encoder, used by vector memory.</summary>
public interface ISentenceEmbedder
{
    int Dimension { get; }

    /// <summary>An L2-normalized vector of length <see cref="Dimension"/>.</summary>
    Task<float[]> EmbedAsync(string text, CancellationToken cancellationToken);
}
