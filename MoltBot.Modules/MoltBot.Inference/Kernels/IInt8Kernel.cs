using static TorchSharp.torch;

namespace MoltBot.Inference.Kernels;

/// <summary>A way of running y = x·(diag(scale)·Q)ᵀ + b with an int8 weight Q [out, in] and per-channel scales [out].</summary>
public interface IInt8Kernel
{
    /// <summary>Short name reported at start-up and in the model catalog, e.g. "fbgemm-int8" or "weight-only-fp32".</summary>
    string Name { get; }

    /// <summary>Packs the weight for this kernel (the arguments are copied; the caller keeps ownership).</summary>
    IInt8Linear Prepare(Tensor q, Tensor scale);
}

/// <summary>One prepared int8 layer.</summary>
public interface IInt8Linear : IDisposable
{
    /// <param name="x">[..., in] float32</param>
    /// <returns>[..., out] float32</returns>
    Tensor Forward(Tensor x, Tensor? bias);

    /// <summary>
    /// This layer's <see cref="Models.CompiledForward.LinearSlots"/> entries of a compiled graph's weight list
    /// (owned by the layer, computed once), or null when the graph cannot run this kernel.
    /// </summary>
    Tensor[]? GraphTensors(Tensor? bias);
}
