using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MoltBot.Tests.Inference;

public class Int8KernelTests(ITestOutputHelper output)
{
    /// <summary>A jit compile error would terminate the process, so the production source is compiled here first.</summary>
    [Fact]
    public void The_fbgemm_TorchScript_source_compiles_and_the_kernel_is_selected()
    {
        using (var unit = torch.jit.compile(FbgemmInt8Kernel.Source)) Assert.NotNull(unit);
        var choice = Int8KernelSelector.Select("auto");
        output.WriteLine($"{choice.Kernel.Name}: {choice.Reason}");
        Assert.Equal("fbgemm-int8", choice.Kernel.Name); // this CPU (x86-64, AVX2+) has fbgemm
        Assert.Equal("weight-only-fp32", Int8KernelSelector.Select("weight-only").Kernel.Name);
    }

    [Fact]
    public void Int8_linear_matches_dequantized_fp32_for_2d_and_3d_inputs_with_bias()
    {
        var kernel = Int8KernelSelector.Select("auto").Kernel;
        using var scope = NewDisposeScope();
        var gen = new torch.Generator(5);
        var w = torch.randn([40, 64], generator: gen) * 0.1;
        var bias = torch.randn([40], generator: gen);
        var x = torch.randn([2, 3, 64], generator: gen);
        var (q, s) = Int8Quantizer.PerChannel(w);
        using var layer = kernel.Prepare(q, s);
        var y = layer.Forward(x, bias);
        var expected = nn.functional.linear(x, Int8Quantizer.Dequantize(q, s), bias);
        Assert.Equal(expected.shape, y.shape);
        double rel = ((y - expected).norm() / expected.norm()).item<float>();
        output.WriteLine($"relative error {rel:E2}");
        Assert.True(rel < 0.05, $"relative error {rel}");
    }

    [Fact]
    public void Int8_student_logits_agree_with_fp32_top1_on_at_least_99_percent_of_a_fixed_input_set()
    {
        var config = TinyModels.Decoder(vocab: 300, hidden: 64, ff: 128, heads: 4, kvHeads: 2);
        string dir = TinyModels.TempDir("int8");
        TinyModels.WriteTokenizer(dir);
        // A random model's top-2 logits are nearly tied (even 8-bit weights alone flip ~4% of them), unlike a
        // trained model's. So first train it briefly on a deterministic sequence rule to get realistic margins.
        using var fp32 = TinyModels.RandomDecoder(config, seed: 11);
        using (var train = NewDisposeScope())
        {
            using var opt = torch.optim.AdamW(fp32.parameters(), lr: 0.01);
            for (int step = 0; step < 120; step++)
            {
                using var s = NewDisposeScope();
                var seq = Pattern(8, 33, seed: step);
                var logits = fp32.forward(seq.narrow(1, 0, 32));
                var loss = nn.functional.cross_entropy(logits.reshape(-1, config.VocabSize), seq.narrow(1, 1, 32).reshape(-1));
                opt.zero_grad();
                loss.backward();
                opt.step();
            }
        }
        ModelFolder.SaveDecoder(dir, fp32, null, int8: true);
        var kernel = Int8KernelSelector.Select("auto").Kernel;
        using var student = ModelFolder.LoadDecoder(dir, kernel);
        Assert.Equal("int8", student.Precision);
        Assert.Equal(kernel.Name, student.Kernel);
        using var scope = NewDisposeScope();
        using var _ = torch.inference_mode();
        var tokens = Pattern(8, 40, seed: 1000); // 320 positions, not seen in training
        var a = fp32.forward(tokens);
        var b = student.Model.forward(tokens);
        double maxErr = (a - b).abs().max().item<float>(), meanErr = (a - b).abs().mean().item<float>();
        double agree = a.argmax(-1).eq(b.argmax(-1)).to(ScalarType.Float32).mean().item<float>();
        output.WriteLine($"int8 ({kernel.Name}) vs fp32 logits: max |err| {maxErr:F4}, mean |err| {meanErr:F5}, logit std {a.std().item<float>():F3}, top-1 agreement {agree:P2}");
        Assert.True(agree >= 0.99, $"top-1 agreement {agree:P2}");
        Directory.Delete(dir, true);
    }

    /// <summary>Rows following next = (7·prev + 3) mod 300 from random starts.</summary>
    private static Tensor Pattern(int rows, int length, int seed)
    {
        var rng = new Random(seed);
        var data = new long[rows, length];
        for (int r = 0; r < rows; r++)
        {
            data[r, 0] = rng.Next(300);
            for (int t = 1; t < length; t++) data[r, t] = (7 * data[r, t - 1] + 3) % 300;
        }
        return torch.tensor(data);
    }
}
