using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MoltBot.Inference.Kernels;

/// <summary>
/// Fallback for hosts without fbgemm: the int8 weights are dequantized once at load and run as FP32 linear.
/// Same numbers as the int8 model (the weights carry the quantization error), FP32 speed; reported as such.
/// </summary>
public sealed class WeightOnlyKernel : IInt8Kernel
{
    public string Name => "weight-only-fp32";

    public IInt8Linear Prepare(Tensor q, Tensor scale) => new Layer(Int8Quantizer.Dequantize(q, scale).DetachFromDisposeScope());

    private sealed class Layer(Tensor weight) : IInt8Linear
    {
        private Tensor? zeroBias;

        public Tensor Forward(Tensor x, Tensor? bias) => F.linear(x, weight, bias);

        /// <summary>The dequantized weight runs as an FP32 linear in the graph.</summary>
        public Tensor[] GraphTensors(Tensor? bias)
        {
            zeroBias ??= torch.zeros(weight.shape[0], device: weight.device).DetachFromDisposeScope();
            return [weight, bias ?? zeroBias, weight, weight, weight];
        }

        public void Dispose()
        {
            weight.Dispose();
            zeroBias?.Dispose();
        }
    }
}
