using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Inference.Training.Lm;

/// <summary>
/// Next-token batch: inputs [B, T] (ids without the last), targets [B, T] (ids shifted by one, -100 where not a
/// reply token), valid [B, T] (1 on every real position, for distillation over the whole sequence).
/// </summary>
public sealed record LmBatch(Tensor Inputs, Tensor Targets, Tensor Valid) : IDisposable
{
    public const long Ignore = -100;

    public static LmBatch From(IReadOnlyList<DialogSequence> items, int padId)
    {
        int b = items.Count, t = Math.Max(1, items.Max(i => i.Ids.Length) - 1);
        var inputs = new long[b * t];
        var targets = new long[b * t];
        var valid = new long[b * t];
        Array.Fill(inputs, padId);
        Array.Fill(targets, Ignore);
        for (int r = 0; r < b; r++)
        {
            var s = items[r];
            for (int c = 0; c + 1 < s.Ids.Length; c++)
            {
                inputs[r * t + c] = s.Ids[c];
                valid[r * t + c] = 1;
                if (s.IsTarget[c + 1]) targets[r * t + c] = s.Ids[c + 1];
            }
        }
        return new LmBatch(torch.tensor(inputs, [b, t]), torch.tensor(targets, [b, t]), torch.tensor(valid, [b, t]));
    }

    public void Dispose()
    {
        Inputs.Dispose();
        Targets.Dispose();
        Valid.Dispose();
    }
}
