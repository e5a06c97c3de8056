using MoltBot.Inference.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoltBot.Inference.Models;

/// <summary>
/// y = x·Wᵀ + b with W stored [out, in] exactly like HF's nn.Linear (so tensor names and shapes map 1:1).
/// After <see cref="Quantize"/> the layer runs an INT8 kernel and the FP32 weight is released.
/// </summary>
public sealed class LinearLayer : nn.Module<Tensor, Tensor>
{
    // Field names are the HF parameter names: "weight" and "bias".
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private IInt8Linear? int8;

    public LinearLayer(int inFeatures, int outFeatures, bool hasBias, string name = "linear") : base(name)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        // Same initialisation as nn.Linear: U(-1/sqrt(in), 1/sqrt(in)).
        double bound = 1.0 / Math.Sqrt(inFeatures);
        weight = new Parameter(torch.empty(outFeatures, inFeatures).uniform_(-bound, bound));
        if (hasBias) bias = new Parameter(torch.zeros(outFeatures));
        RegisterComponents();
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public Parameter Weight => weight;
    public Parameter? Bias => bias;
    public IInt8Linear? Int8 => int8;

    /// <param name="x">[..., in]</param>
    /// <returns>[..., out]</returns>
    public override Tensor forward(Tensor x) =>
        int8 is { } q ? q.Forward(x, bias) : nn.functional.linear(x, weight, bias);

    /// <summary>Switches to INT8: <paramref name="q"/> [out, in] int8, <paramref name="scale"/> [out] float (per output channel).</summary>
    public void Quantize(IInt8Kernel kernel, Tensor q, Tensor scale)
    {
        if (!q.shape.SequenceEqual([OutFeatures, InFeatures]))
            throw new ArgumentException($"int8 weight shape [{string.Join(",", q.shape)}] != [{OutFeatures},{InFeatures}]");
        int8?.Dispose();
        // The FP32 parameter stays allocated (TorchSharp cannot shrink a registered parameter in place); it is
        // simply no longer read.
        int8 = kernel.Prepare(q, scale);
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
        if (disposing) int8?.Dispose();
        base.Dispose(disposing);
    }
}
