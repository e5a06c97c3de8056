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
        using Scalar end = headDim.ToScalar(), dim = headDim.ToScalar(); // explicit: see LiveScalars
        var exponent = torch.arange(LiveScalars.Zero, end, LiveScalars.Two, ScalarType.Float64).div(dim);
        var invFreq = torch.pow(theta, exponent).reciprocal(); // [d/2]; pow(double, Tensor) (its Scalar overload throws)
        var pos = LiveScalars.Arange(maxPositions, dtype: ScalarType.Float64);                                  // [P]
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
        return (x * c).Plus(RotateHalf(x) * s).MoveToOuterDisposeScope();
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
