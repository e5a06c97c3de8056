using MoltBot.Inference.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoltBot.Inference.Models;

/// <summary>
/// y = x·Wᵀ + b with W stored [out, in] exactly like HF's nn.Linear (so tensor names and shapes map 1:1).
/// After <see cref="Quantize"/> the layer runs an INT8 kernel, after <see cref="UseBf16"/> a BF16 GEMM; either way the
/// FP32 weight's storage is released (the parameter stays registered, empty, so names and state dicts are unchanged).
/// </summary>
public sealed class LinearLayer : nn.Module<Tensor, Tensor>
{
    // Field names are the HF parameter names: "weight" and "bias".
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private IInt8Linear? int8;
    private Tensor? bf16Weight;
    private Tensor? graphZeroBias;

    public LinearLayer(int inFeatures, int outFeatures, bool hasBias, string name = "linear") : base(name)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        // Same initialisation as nn.Linear: U(-1/sqrt(in), 1/sqrt(in)).
        double bound = 1.0 / Math.Sqrt(inFeatures);
        var w = torch.empty(outFeatures, inFeatures);
        if (ParameterInit.Enabled) w.uniform_(-bound, bound);
        weight = new Parameter(w);
        if (hasBias) bias = new Parameter(torch.zeros(outFeatures));
        RegisterComponents();
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public Parameter Weight => weight;
    public Parameter? Bias => bias;
    public IInt8Linear? Int8 => int8;
    /// <summary>True after <see cref="UseBf16"/>.</summary>
    public bool IsBf16 => bf16Weight is not null;
    /// <summary>False once the FP32 weight was released for an INT8 or BF16 copy.</summary>
    public bool HasFloatWeight => weight.numel() > 0;
    /// <summary>in × out (+ out for the bias), whatever the storage precision.</summary>
    public long ParameterCount => (long)InFeatures * OutFeatures + (bias is null ? 0 : OutFeatures);

    /// <param name="x">[..., in]</param>
    /// <returns>[..., out]</returns>
    public override Tensor forward(Tensor x)
    {
        if (int8 is { } q) return q.Forward(x, bias);
        if (bf16Weight is null) return nn.functional.linear(x, weight, bias);
        // BF16 GEMM (AMX/AVX-512 BF16 on capable CPUs), FP32 in and out: the rest of the model stays FP32.
        using var scope = torch.NewDisposeScope();
        var y = nn.functional.linear(x.to(ScalarType.BFloat16), bf16Weight).to(ScalarType.Float32);
        if (bias is not null) y = y.Plus(bias);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// This layer's <see cref="CompiledForward.LinearSlots"/> entries of a compiled graph's weight list: FP32
    /// [W, b, W, W, W] (a zero bias when there is none) or the int8 kernel's; null for BF16 (the graph runs FP32/INT8).
    /// </summary>
    internal Tensor[]? GraphTensors()
    {
        if (int8 is { } q) return q.GraphTensors(bias);
        if (bf16Weight is not null) return null;
        graphZeroBias ??= torch.zeros(OutFeatures, device: weight.device).DetachFromDisposeScope();
        var b = bias is null ? graphZeroBias : (Tensor)bias;
        return [weight, b, weight, weight, weight];
    }

    /// <summary>Keeps a BF16 copy of the weight for inference and releases the FP32 one.</summary>
    public void UseBf16()
    {
        if (int8 is not null) throw new InvalidOperationException("an INT8 layer cannot switch to BF16");
        if (bf16Weight is not null) return;
        using (torch.no_grad()) bf16Weight = weight.detach().to(ScalarType.BFloat16).DetachFromDisposeScope();
        ReleaseFloatWeight();
    }

    /// <summary>Switches to INT8: <paramref name="q"/> [out, in] int8, <paramref name="scale"/> [out] float (per output channel).</summary>
    public void Quantize(IInt8Kernel kernel, Tensor q, Tensor scale)
    {
        if (!q.shape.SequenceEqual([OutFeatures, InFeatures]))
            throw new ArgumentException($"int8 weight shape [{string.Join(",", q.shape)}] != [{OutFeatures},{InFeatures}]");
        if (bf16Weight is not null) throw new InvalidOperationException("a BF16 layer cannot be quantized");
        int8?.Dispose();
        int8 = kernel.Prepare(q, scale);
        ReleaseFloatWeight();
    }

    /// <summary>
    /// Points the registered "weight" parameter at an empty tensor, which frees its [out, in] FP32 storage (set_
    /// swaps the storage in place, so the module keeps its parameter list and names).
    /// </summary>
    private void ReleaseFloatWeight()
    {
        using var noGrad = torch.no_grad();
        using var empty = torch.empty(0, dtype: weight.dtype, device: weight.device);
        var result = weight.set_(empty);
        if (!ReferenceEquals(result, weight)) result.Dispose(); // TorchSharp returns the tensor itself for in-place ops
    }

    /// <summary>Quantizes the current FP32 weight per output channel (symmetric, int8 in [-127, 127]).</summary>
    public void QuantizeFromFloat(IInt8Kernel kernel)
    {
        using var scope = torch.NewDisposeScope();
        var (q, s) = Int8Quantizer.PerChannel(weight);
        Quantize(kernel, q, s);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            int8?.Dispose();
            bf16Weight?.Dispose();
            graphZeroBias?.Dispose();
        }
        base.Dispose(disposing);
    }
}
