using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Inference.Kernels;

/// <summary>
/// True int8 GEMM through fbgemm (the x86 int8 kernels inside libtorch), reached by compiling a few lines of
/// TorchScript that call the aten ops: the activation is quantized dynamically per call (uint8, per tensor),
/// multiplied with the packed int8 weight, accumulated in int32 and rescaled. The weight is symmetric per output
/// channel: the kernel runs with weight scale 1 / zero point 0 and the per-channel scales are applied to its output.
/// </summary>
public sealed class FbgemmInt8Kernel : IInt8Kernel, IDisposable
{
    /// <summary>
    /// The TorchScript source. A syntax/type error in jit.compile terminates the process (C++ terminate), so this
    /// exact text is compiled by a unit test (Int8KernelTests) before it can ever reach production.
    /// </summary>
    public const string Source = """
        def pack(q: Tensor) -> Tensor:
            return torch.fbgemm_pack_quantized_matrix(q)

        def linear(x: Tensor, q: Tensor, packed: Tensor, col_offsets: Tensor, zero_bias: Tensor, scale: Tensor) -> Tensor:
            k = q.size(1)
            x2 = x.reshape([-1, k]).contiguous()
            y = torch.fbgemm_linear_int8_weight_fp32_activation(x2, q, packed, col_offsets, 1.0, 0, zero_bias)
            shape = x.size()[:-1] + [q.size(0)]
            return (y * scale).reshape(shape)

        """ + "\n";

    private readonly jit.CompilationUnit unit;

    private FbgemmInt8Kernel(jit.CompilationUnit unit) => this.unit = unit;

    public string Name => "fbgemm-int8";

    /// <summary>
    /// Compiles the kernel and checks it against FP32 on a small matrix; null when fbgemm is unavailable (libtorch
    /// built without it throws a catchable error at invoke time) or gives wrong numbers.
    /// </summary>
    public static FbgemmInt8Kernel? TryCreate(out string? whyNot)
    {
        whyNot = null;
        FbgemmInt8Kernel? kernel = null;
        try
        {
            kernel = new FbgemmInt8Kernel(torch.jit.compile(Source));
            if (!kernel.SelfTest(out whyNot))
            {
                kernel.Dispose();
                return null;
            }
            return kernel;
        }
        catch (Exception ex) when (ex is System.Runtime.InteropServices.ExternalException or InvalidOperationException or ArgumentException)
        {
            kernel?.Dispose();
            whyNot = ex.Message.Split('\n')[0];
            return null;
        }
    }

    public IInt8Linear Prepare(Tensor q, Tensor scale)
    {
        using var scope = NewDisposeScope();
        // fbgemm multiplies uint8 activations by int8 weights with 16-bit pairwise sums (vpmaddubsw) that saturate
        // for |w| > 64 (measured: 3–10× the expected error). Like PyTorch's reduce_range, use 7-bit weights here:
        // Q7 = round(Q / 2), scale × 2. The file keeps the full 8-bit weights.
        // Explicit scalars, alive until the end of this method: an implicit int → Scalar conversion is freed by its
        // finalizer, which can run while the native call still reads it (seen once: "Unknown scalar type" on a loader thread).
        using Scalar two = 2.ToScalar(), low = (-64).ToScalar(), high = 63.ToScalar();
        var qc = q.to(ScalarType.Float32).div(two).round().clamp(low, high).to(ScalarType.Int8).contiguous();
        scale = scale.mul(two);
        var packed = (Tensor)unit.invoke("pack", qc);
        var colOffsets = qc.to(ScalarType.Int32).sum([1], type: ScalarType.Int32).contiguous(); // Σ_k Q[o,k] (zero point 0)
        var zeroBias = torch.zeros(q.shape[0]);
        var s = scale.to(ScalarType.Float32).contiguous();
        // The layer owns these for the model's lifetime: detach them from every dispose scope.
        return new Layer(unit, qc.DetachFromDisposeScope(), packed.DetachFromDisposeScope(),
            colOffsets.DetachFromDisposeScope(), zeroBias.DetachFromDisposeScope(), s.DetachFromDisposeScope());
    }

    /// <summary>Relative error of a 64×48 product against FP32 must be small (catches a wrong op contract).</summary>
    private bool SelfTest(out string? whyNot)
    {
        using var scope = NewDisposeScope();
        var gen = new torch.Generator(1234);
        var w = torch.randn([48, 64], generator: gen);
        var x = torch.randn([3, 64], generator: gen);
        var (q, s) = Int8Quantizer.PerChannel(w);
        using var layer = Prepare(q, s);
        var y = layer.Forward(x, null);
        var expected = nn.functional.linear(x, Int8Quantizer.Dequantize(q, s));
        double rel = ((y - expected).norm() / expected.norm()).item<float>();
        whyNot = rel < 0.1 ? null : $"self-test relative error {rel:F3} too large";
        return whyNot is null;
    }

    public void Dispose() => unit.Dispose();

    private sealed class Layer(jit.CompilationUnit unit, Tensor q, Tensor packed, Tensor colOffsets, Tensor zeroBias, Tensor scale) : IInt8Linear
    {
        private Tensor? graphBias;

        /// <summary>[Q, scale, packed, col_offsets, bias / scale]: fbgemm adds its bias before the per-channel rescale.</summary>
        public Tensor[] GraphTensors(Tensor? bias)
        {
            if (graphBias is null)
            {
                using var noGrad = torch.no_grad();
                graphBias = bias is null ? zeroBias : (bias.detach() / scale).contiguous().DetachFromDisposeScope();
            }
            return [q, scale, packed, colOffsets, graphBias];
        }

        public Tensor Forward(Tensor x, Tensor? bias)
        {
            var y = (Tensor)unit.invoke("linear", x.contiguous(), q, packed, colOffsets, zeroBias, scale);
            if (bias is null) return y;
            using (y) return Models.LiveScalars.Plus(y, bias);
        }

        public void Dispose()
        {
            q.Dispose();
            packed.Dispose();
            colOffsets.Dispose();
            zeroBias.Dispose();
            scale.Dispose();
            if (!ReferenceEquals(graphBias, zeroBias)) graphBias?.Dispose();
        }
    }
}
