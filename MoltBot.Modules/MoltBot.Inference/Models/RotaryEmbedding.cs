using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Inference.Models;

/// <summary>
/// Rotary position embedding, HF "rotate half" convention: for head dim d, inv_freq[i] = θ^(-2i/d),
/// angle(p, i) = p·inv_freq[i] for i &lt; d/2 and repeated for the second half;
/// x' = x·cos + rotate_half(x)·sin with rotate_half([x1, x2]) = [-x2, x1].
/// Tables are computed once up to max positions; they are not parameters (not in the checkpoint).
/// </summary>
public sealed class RotaryEmbedding : IDisposable
{
    private readonly Tensor cos; // [maxPos, d]
    private readonly Tensor sin; // [maxPos, d]

    public RotaryEmbedding(int headDim, int maxPositions, double theta)
    {
        using var scope = NewDisposeScope();
        // θ^(−2i/d) computed in managed code: tensor-with-number arithmetic would pass implicit Scalars, which nothing
        // keeps alive during their native calls (a finalizer may free one mid-call).
        var inverse = new double[headDim / 2];
        for (int i = 0; i < inverse.Length; i++) inverse[i] = 1.0 / Math.Pow(theta, 2.0 * i / headDim);
        var invFreq = torch.tensor(inverse, dtype: ScalarType.Float64);                                          // [d/2]
        var pos = torch.arange(maxPositions, dtype: ScalarType.Float64);                                        // [P]
        var freqs = torch.outer(pos, invFreq);                                                                    // [P, d/2]
        var emb = torch.cat([freqs, freqs], -1);                                                                  // [P, d]
        cos = emb.cos().to(ScalarType.Float32).MoveToOuterDisposeScope();
        sin = emb.sin().to(ScalarType.Float32).MoveToOuterDisposeScope();
        MaxPositions = maxPositions;
    }

    public int MaxPositions { get; }

    /// <summary>[maxPos, d] tables (for the compiled forward).</summary>
    internal Tensor Cos => cos;
    internal Tensor Sin => sin;

    /// <summary>Rotates <paramref name="x"/> [B, H, T, d] at <paramref name="positions"/> [B, T] (int64).</summary>
    public Tensor Apply(Tensor x, Tensor positions)
    {
        using var scope = NewDisposeScope();
        var c = cos.to(x.device).index_select(0, positions.flatten()).view(positions.shape[0], 1, positions.shape[1], -1); // [B,1,T,d]
        var s = sin.to(x.device).index_select(0, positions.flatten()).view(positions.shape[0], 1, positions.shape[1], -1);
        return (x * c + RotateHalf(x) * s).MoveToOuterDisposeScope();
    }

    private static Tensor RotateHalf(Tensor x)
    {
        long half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        return torch.cat([-x2, x1], -1);
    }

    public void Dispose()
    {
        cos.Dispose();
        sin.Dispose();
    }
}
