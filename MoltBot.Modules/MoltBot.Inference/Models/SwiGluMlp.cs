using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MoltBot.Inference.Models;

/// <summary>SwiGLU feed-forward: down_proj(silu(gate_proj(x)) ⊙ up_proj(x)); [.., D] → [.., F] → [.., D].</summary>
public sealed class SwiGluMlp : nn.Module<Tensor, Tensor>
{
    private readonly LinearLayer gate_proj;
    private readonly LinearLayer up_proj;
    private readonly LinearLayer down_proj;

    public SwiGluMlp(int hidden, int intermediate, string name = "mlp") : base(name)
    {
        gate_proj = new LinearLayer(hidden, intermediate, false);
        up_proj = new LinearLayer(hidden, intermediate, false);
        down_proj = new LinearLayer(intermediate, hidden, false);
        RegisterComponents();
    }

    /// <summary>gate, up, down in the order of <see cref="CompiledForward.Source"/>'s block.</summary>
    internal IEnumerable<LinearLayer> Projections() => [gate_proj, up_proj, down_proj];

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return down_proj.forward(F.silu(gate_proj.forward(x)) * up_proj.forward(x)).MoveToOuterDisposeScope();
    }
}
