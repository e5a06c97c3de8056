using MoltBot.Inference.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Inference.Engines;

/// <summary>
/// A batch's padded token ids and attention mask as two flat arrays ([Count × Length], row-major), built in one pass
/// and handed to libtorch as two tensors: no per-request tensors and no multi-dimensional managed arrays.
/// </summary>
internal sealed class NluBatchInputs
{
    private NluBatchInputs(long[] ids, bool[] mask, int count, int length)
    {
        Ids = ids;
        Mask = mask;
        Count = count;
        Length = length;
    }

    public long[] Ids { get; }
    public bool[] Mask { get; }
    public int Count { get; }
    /// <summary>Padded length: the longest utterance of the batch (at least 1).</summary>
    public int Length { get; }

    /// <param name="encoded">Per utterance, its tokens already cut to the model's max_position_embeddings.</param>
    public static NluBatchInputs Build(IReadOnlyList<IReadOnlyList<(int Id, int Start, int End)>> encoded, NluEncoderConfig config)
    {
        int count = encoded.Count, length = 1;
        for (int b = 0; b < count; b++) length = Math.Max(length, encoded[b].Count);
        var ids = new long[count * length];
        var mask = new bool[count * length];
        Array.Fill(ids, config.PadTokenId);
        for (int b = 0; b < count; b++)
        {
            var tokens = encoded[b];
            int row = b * length;
            for (int t = 0; t < tokens.Count; t++)
            {
                ids[row + t] = tokens[t].Id;
                mask[row + t] = true;
            }
            if (tokens.Count == 0) mask[row] = true; // empty text: pool over the pad token rather than nothing
        }
        return new NluBatchInputs(ids, mask, count, length);
    }

    /// <summary>[Count, Length] int64 ids and bool mask, created in the caller's dispose scope.</summary>
    public (Tensor Ids, Tensor Mask) ToTensors() =>
        (torch.tensor(Ids, [Count, Length]), torch.tensor(Mask, [Count, Length]));
}
