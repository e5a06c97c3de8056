using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoltBot.Inference.Models;

/// <summary>RMSNorm (Llama): x / sqrt(mean(x²) + eps) · weight. Parameter "weight" [dim].</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double eps;

    public RmsNorm(int dim, double eps, string name = "norm") : base(name)
    {
        this.eps = eps;
        weight = new Parameter(torch.ones(dim));
        RegisterComponents();
    }

    internal Parameter Weight => weight;
    internal double Eps => eps;

    /// <param name="x">[..., dim]</param>
    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        using Scalar epsilon = eps.ToScalar(); // explicit: an implicit Scalar's finalizer may free it during the native call
        var variance = (x * x).mean([-1], keepdim: true); // square() is pow(2) with an implicit scalar
        return (x * torch.rsqrt(variance.add(epsilon, LiveScalars.One)) * weight).MoveToOuterDisposeScope();
    }
}
