using MoltBot.Inference.Models;
using MoltBot.Inference.Tokenization;
using MoltBot.Inference.Training.Corpus;
using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Inference.Training.Nlu;

/// <summary>An example turned into token ids, token spans, BIO tag ids and the intent index.</summary>
public sealed record EncodedNluExample(NluExample Example, int[] Ids, TokenSpan[] Spans, int[] Tags, int Intent)
{
    public static EncodedNluExample Encode(NluExample example, TextTokenizer tokenizer, TokenAligner aligner, NluEncoderConfig config)
    {
        var ids = tokenizer.Encode(example.Text).ToArray();
        var spans = aligner.Align(example.Text, ids);
        if (ids.Length > config.MaxPositionEmbeddings)
        {
            ids = ids[..config.MaxPositionEmbeddings];
            spans = spans[..config.MaxPositionEmbeddings];
        }
        int intent = config.Intents.ToList().IndexOf(example.Intent);
        var tags = BioCodec.Encode(spans, example.Entities, config.BioTags);
        return new EncodedNluExample(example, ids, spans, tags, intent);
    }
}

/// <summary>A padded batch: ids/mask [B, T], tag targets [B, T] (-100 on padding), intent targets [B].</summary>
public sealed record NluBatch(Tensor Ids, Tensor Mask, Tensor Tags, Tensor Intents, int Size) : IDisposable
{
    public const long Ignore = -100;

    public static NluBatch From(IReadOnlyList<EncodedNluExample> items, int padId)
    {
        int b = items.Count, t = Math.Max(1, items.Max(i => i.Ids.Length));
        var ids = new long[b * t];
        var mask = new long[b * t];
        var tags = new long[b * t];
        Array.Fill(ids, padId);
        Array.Fill(tags, Ignore);
        for (int r = 0; r < b; r++)
            for (int c = 0; c < items[r].Ids.Length; c++)
            {
                ids[r * t + c] = items[r].Ids[c];
                mask[r * t + c] = 1;
                tags[r * t + c] = items[r].Tags[c];
            }
        return new NluBatch(torch.tensor(ids, [b, t]), torch.tensor(mask, [b, t]), torch.tensor(tags, [b, t]),
            torch.tensor(items.Select(i => (long)i.Intent).ToArray()), b);
    }

    public void Dispose()
    {
        Ids.Dispose();
        Mask.Dispose();
        Tags.Dispose();
        Intents.Dispose();
    }
}
