using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Inference.Kernels;

/// <summary>Symmetric per-output-channel int8 quantization: Q = round(W / s), s = max|W_row| / 127.</summary>
public static class Int8Quantizer
{
    /// <param name="weight">[out, in] float</param>
    /// <returns>Q [out, in] int8 in [-127, 127] and scale [out] float32.</returns>
    public static (Tensor Q, Tensor Scale) PerChannel(Tensor weight)
    {
        using var scope = NewDisposeScope();
        using var _ = torch.no_grad();
        // Explicit scalars, alive until the end: an implicit Scalar's finalizer may free it during the native call.
        using Scalar tiny = 1e-8.ToScalar(), levels = 127.0.ToScalar(), low = (-127).ToScalar(), high = 127.ToScalar();
        var w = weight.detach().to(ScalarType.Float32);
        var scale = w.abs().amax([1]).clamp_min(tiny) / levels;                       // [out]
        var q = (w / scale.unsqueeze(1)).round().clamp(low, high).to(ScalarType.Int8); // [out, in]
        return (q.MoveToOuterDisposeScope(), scale.MoveToOuterDisposeScope());
    }

    /// <summary>diag(scale)·Q as float32 [out, in].</summary>
    public static Tensor Dequantize(Tensor q, Tensor scale)
    {
        using var scope = NewDisposeScope();
        return (q.to(ScalarType.Float32) * scale.to(ScalarType.Float32).unsqueeze(1)).MoveToOuterDisposeScope();
    }
}
