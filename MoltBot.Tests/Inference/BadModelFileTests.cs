using System.Text;
using System.Text.Json.Nodes;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;

namespace MoltBot.Tests.Inference;

/// <summary>Every broken-folder case ends in a ModelFormatException that names the file and the tensor.</summary>
public sealed class BadModelFileTests : IDisposable
{
    private const string Victim = "model.layers.1.mlp.up_proj.weight";
    private readonly string dir = TinyModels.WriteDecoderFolder(TinyModels.TempDir("bad"), TinyModels.Decoder(), seed: 5);
    private string File => Path.Combine(dir, "model.safetensors");

    private ModelFormatException Load() =>
        Assert.Throws<ModelFormatException>(() => ModelFolder.LoadDecoder(dir, new WeightOnlyKernel()).Dispose());

    [Fact]
    public void Truncated_file_names_the_file_and_the_cut_tensor()
    {
        var bytes = System.IO.File.ReadAllBytes(File);
        System.IO.File.WriteAllBytes(File, bytes[..(bytes.Length - 100)]);
        var ex = Load();
        Assert.Contains(File, ex.Message);
        Assert.Contains("truncated", ex.Message);
        Assert.NotNull(ex.Tensor);
        Assert.Contains($"tensor '{ex.Tensor}'", ex.Message);
    }

    [Fact]
    public void File_shorter_than_its_header_is_reported()
    {
        System.IO.File.WriteAllBytes(File, System.IO.File.ReadAllBytes(File)[..20]);
        var ex = Load();
        Assert.Contains(File, ex.Message);
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void Header_that_lies_about_offsets_is_rejected()
    {
        EditHeader(h =>
        {
            var offs = h[Victim]!["data_offsets"]!.AsArray();
            long begin = offs[0]!.GetValue<long>();
            offs[0] = begin + 4; // span no longer matches dtype × shape
        });
        var ex = Load();
        Assert.Equal(Victim, ex.Tensor);
        Assert.Contains(File, ex.Message);
        Assert.Contains("data_offsets", ex.Message);
    }

    [Fact]
    public void Overlapping_offsets_are_rejected()
    {
        EditHeader(h =>
        {
            var other = h["model.layers.1.mlp.gate_proj.weight"]!["data_offsets"]!.DeepClone();
            h[Victim]!["data_offsets"] = other;
        });
        var ex = Load();
        Assert.Contains("overlap", ex.Message);
        Assert.Contains(File, ex.Message);
    }

    [Fact]
    public void Shape_that_contradicts_config_names_the_tensor_and_config()
    {
        var cfg = JsonNode.Parse(System.IO.File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
        cfg["intermediate_size"] = 48;
        System.IO.File.WriteAllText(Path.Combine(dir, "config.json"), cfg.ToJsonString());
        var ex = Load();
        Assert.Contains("model.layers.0.mlp.gate_proj.weight", ex.Message);
        Assert.Contains("config.json", ex.Message);
        Assert.Contains("[64,32]", ex.Message);
    }

    [Fact]
    public void Unknown_dtype_is_named()
    {
        EditHeader(h => h[Victim]!["dtype"] = "F8_E4M3");
        var ex = Load();
        Assert.Equal(Victim, ex.Tensor);
        Assert.Contains("unknown dtype 'F8_E4M3'", ex.Message);
    }

    [Fact]
    public void Missing_tensor_is_named()
    {
        EditHeader(h => h.Remove(Victim));
        var ex = Load();
        Assert.Equal(Victim, ex.Tensor);
        Assert.Contains("missing", ex.Message);
        Assert.Contains(File, ex.Message);
    }

    [Fact]
    public void Missing_shard_listed_in_the_index_is_named()
    {
        string sharded = TinyModels.WriteDecoderFolder(TinyModels.TempDir("bad-shard"), TinyModels.Decoder(), maxShard: 40_000);
        var shard = Directory.GetFiles(sharded, "model-00002-*.safetensors").Single();
        System.IO.File.Delete(shard);
        var ex = Assert.Throws<ModelFormatException>(() => ModelFolder.LoadDecoder(sharded, new WeightOnlyKernel()).Dispose());
        Assert.Contains(Path.GetFileName(shard), ex.Message);
        Directory.Delete(sharded, true);
    }

    [Fact]
    public void Missing_folder_and_missing_config_are_named()
    {
        var ex = Assert.Throws<ModelFormatException>(() => ModelFolder.LoadDecoder(Path.Combine(dir, "nope"), new WeightOnlyKernel()));
        Assert.Contains("nope", ex.Message);
        System.IO.File.Delete(Path.Combine(dir, "config.json"));
        Assert.Contains("config.json", Load().Message);
    }

    /// <summary>Rewrites the JSON header in place (keeping the data section), as a lying writer would.</summary>
    private void EditHeader(Action<JsonObject> edit)
    {
        var bytes = System.IO.File.ReadAllBytes(File);
        long n = BitConverter.ToInt64(bytes, 0);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n))!.AsObject();
        edit(header);
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        using var fs = new FileStream(File, FileMode.Create);
        fs.Write(BitConverter.GetBytes((long)json.Length));
        fs.Write(json);
        fs.Write(bytes, 8 + (int)n, bytes.Length - 8 - (int)n);
    }

    public void Dispose()
    {
        try { Directory.Delete(dir, true); } catch (IOException) { }
    }
}
