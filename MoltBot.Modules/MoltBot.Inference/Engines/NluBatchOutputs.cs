using System.Runtime.InteropServices;
using MoltBot.Contracts.Inference;
using MoltBot.Inference.Models;
using static TorchSharp.torch;

namespace MoltBot.Inference.Engines;

/// <summary>
/// A batch's outputs read back once each (intent probabilities [B, I], tag ids [B, T], embeddings [B, E]) into managed
/// arrays, so that each utterance's result can then be decoded anywhere (the caller's thread) without touching libtorch.
/// </summary>
internal sealed record NluBatchOutputs(float[] IntentProbs, long[] Tags, float[] Embeddings, int Intents, int EmbeddingSize)
{
    public static NluBatchOutputs Read(NluBatchOutput output) =>
        new(Floats(output.IntentProbs), Longs(output.Tags), Floats(output.Embedding), (int)output.IntentProbs.shape[^1], (int)output.Embedding.shape[^1]);

    /// <summary>Index of the most probable intent of utterance <paramref name="b"/> and its probability.</summary>
    public (int Intent, float Probability) Best(int b)
    {
        var p = IntentProbs.AsSpan(b * Intents, Intents);
        int best = Sampler.ArgMax(p);
        return (best, p[best]);
    }

    /// <summary>Utterance <paramref name="b"/>'s result: intent, BIO entity spans, language and its own copy of the embedding.</summary>
    /// <param name="length">The batch's padded length (row stride of the tag ids).</param>
    public NluResult Decode(int b, string text, IReadOnlyList<(int Id, int Start, int End)> tokens, int length, NluEncoderConfig config)
    {
        var (best, probability) = Best(b);
        var spans = BioDecoder.Decode(text, tokens, Tags.AsSpan(b * length, tokens.Count), config.BioTags);
        return new NluResult(config.Intents[best], probability, spans, BioDecoder.Language(text))
        {
            Embedding = Embeddings.AsSpan(b * EmbeddingSize, EmbeddingSize).ToArray(),
        };
    }

    private static float[] Floats(Tensor t)
    {
        using var c = t.to(ScalarType.Float32).cpu().contiguous();
        return MemoryMarshal.Cast<byte, float>(c.bytes).ToArray();
    }

    private static long[] Longs(Tensor t)
    {
        using var c = t.to(ScalarType.Int64).cpu().contiguous();
        return MemoryMarshal.Cast<byte, long>(c.bytes).ToArray();
    }
}
