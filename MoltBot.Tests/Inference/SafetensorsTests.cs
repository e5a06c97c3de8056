using System.Text;
using MoltBot.Inference.Models;
using MoltBot.Inference.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Tests.Inference;

public class SafetensorsTests
{
    [Fact]
    public void Round_trip_keeps_dtype_shape_and_values_for_F32_F16_BF16_I8()
    {
        string dir = TinyModels.TempDir("st");
        string file = Path.Combine(dir, "t.safetensors");
        using var scope = NewDisposeScope();
        torch.manual_seed(1);
        var f32 = torch.randn(3, 5);
        var tensors = new Dictionary<string, Tensor>
        {
            ["a.f32"] = f32,
            ["b.f16"] = f32.to(ScalarType.Float16),
            ["c.bf16"] = f32.to(ScalarType.BFloat16),
            ["d.i8"] = torch.tensor(new sbyte[] { -127, -1, 0, 1, 127 }),
            ["e.scalar"] = torch.tensor(2.5f),
            ["f.empty"] = torch.zeros(0, 4),
        };
        SafetensorsWriter.Write(file, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        using var st = SafetensorsFile.Open(file);
        Assert.Equal("pt", st.Metadata["format"]);
        foreach (var (name, t) in tensors)
        {
            using var back = st.Load(name);
            Assert.Equal(t.dtype, back.dtype);
            Assert.Equal(t.shape, back.shape);
            Assert.True(t.to(ScalarType.Float32).Same(back.to(ScalarType.Float32)), name);
        }
        Assert.Equal(["BF16", "F16", "F32", "F32", "F32", "I8"], st.Tensors.Values.Select(e => e.DType).Order());
        Directory.Delete(dir, true);
    }

    [Fact]
    public void A_sharded_Hugging_Face_named_model_loads_with_identical_logits()
    {
        string single = TinyModels.WriteDecoderFolder(TinyModels.TempDir("single"), TinyModels.Decoder(), seed: 9);
        string sharded = TinyModels.WriteDecoderFolder(TinyModels.TempDir("sharded"), TinyModels.Decoder(), seed: 9, maxShard: 40_000);
        Assert.True(File.Exists(Path.Combine(sharded, "model.safetensors.index.json")));
        Assert.True(Directory.GetFiles(sharded, "model-*-of-*.safetensors").Length >= 2);
        var fake = new MoltBot.Inference.Kernels.WeightOnlyKernel();
        using var a = ModelFolder.LoadDecoder(single, fake);
        using var b = ModelFolder.LoadDecoder(sharded, fake);
        using var scope = NewDisposeScope();
        using var _ = torch.inference_mode();
        var tokens = torch.tensor(new long[] { 1, 2, 3, 4, 5 }).unsqueeze(0);
        Assert.True(a.Model.forward(tokens).Same(b.Model.forward(tokens)));
        Assert.Equal("chatml", b.Template.Format);
        Assert.Equal("fp32", b.Precision);
        Directory.Delete(single, true);
        Directory.Delete(sharded, true);
    }

    [Fact]
    public void Half_precision_checkpoints_load_as_float32()
    {
        string dir = TinyModels.WriteDecoderFolder(TinyModels.TempDir("f16"), TinyModels.Decoder(), seed: 2);
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>();
        using (var st = SafetensorsFile.Open(Path.Combine(dir, "model.safetensors")))
            foreach (var name in st.Tensors.Keys) tensors[name] = st.Load(name).to(ScalarType.BFloat16);
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors);
        using var m = ModelFolder.LoadDecoder(dir, new MoltBot.Inference.Kernels.WeightOnlyKernel());
        var w = m.Model.named_parameters().First(p => p.name == "model.norm.weight").parameter;
        Assert.Equal(ScalarType.Float32, w.dtype);
        Assert.True(w.Same(tensors["model.norm.weight"].to(ScalarType.Float32)));
        Directory.Delete(dir, true);
    }
}
