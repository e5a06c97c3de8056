using System.Text.Json;
using System.Text.Json.Nodes;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Safetensors;
using MoltBot.Inference.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Inference.Models;

/// <summary>A decoder loaded from a folder, with what serving it needs.</summary>
public sealed class LoadedDecoder(string folder, DecoderLM model, TextTokenizer tokenizer, ChatTemplate template, string precision, string? kernel)
    : IDisposable
{
    public string Folder { get; } = folder;
    public DecoderLM Model { get; } = model;
    public DecoderConfig Config => Model.Config;
    public TextTokenizer Tokenizer { get; } = tokenizer;
    public ChatTemplate Template { get; } = template;
    /// <summary>"fp32" or "int8".</summary>
    public string Precision { get; } = precision;
    public string? Kernel { get; } = kernel;
    public void Dispose() => Model.Dispose();
}

/// <summary>An NLU encoder, an n-gram classifier, or an ensemble of them (<see cref="NluEnsemble"/>), loaded from a folder.</summary>
public sealed class LoadedNlu(string folder, NluModel model, TextTokenizer tokenizer, string precision, string? kernel) : IDisposable
{
    public string Folder { get; } = folder;
    public NluModel Model { get; } = model;
    public NluEncoderConfig Config => Model.Config;
    public TextTokenizer Tokenizer { get; } = tokenizer;
    public string Precision { get; } = precision;
    public string? Kernel { get; } = kernel;
    public void Dispose() => Model.Dispose();
}

/// <summary>
/// Reads and writes model folders in the Hugging Face layout: config.json, model.safetensors (or shards +
/// model.safetensors.index.json), tokenizer files. INT8 folders store each quantized projection as
/// "&lt;name&gt;.weight" (I8, [out, in]) + "&lt;name&gt;.weight_scale" (F32, [out]) and say so in config.json
/// ("quantization_config": {"quant_method": "moltbot_int8"}).
/// </summary>
public static class ModelFolder
{
    public const string Int8Method = "moltbot_int8";
    private static readonly string[] TokenizerFiles =
        ["vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "generation_config.json"];

    /// <summary>"nlu" for model_type moltbot_nlu, moltbot_nlu_ngram or moltbot_nlu_ensemble, else "lm".</summary>
    public static string KindOf(string folder)
    {
        var c = ConfigJson.Load(Path.Combine(folder, "config.json"));
        return c.String("model_type") is NluEncoderConfig.ModelTypeName or NluEnsembleFolder.ModelTypeName or NgramClassifierConfig.ModelTypeName ? "nlu" : "lm";
    }

    /// <summary>True when <paramref name="folder"/>'s config.json says moltbot_nlu_ngram (<see cref="NgramClassifier"/>).</summary>
    public static bool IsNgram(string folder)
    {
        string file = Path.Combine(folder, "config.json");
        return File.Exists(file) && ConfigJson.Load(file).String("model_type") == NgramClassifierConfig.ModelTypeName;
    }

    /// <summary>The labels/vocabulary config of an NLU folder without loading weights (an ensemble's first member's).</summary>
    public static NluEncoderConfig NluConfigOf(string folder) =>
        NluEnsembleFolder.IsEnsemble(folder) ? NluEnsembleFolder.SharedConfig(folder)
        : IsNgram(folder) ? NgramClassifierConfig.Load(Path.Combine(folder, "config.json")).AsNluConfig()
        : NluEncoderConfig.Load(Path.Combine(folder, "config.json"));

    public static LoadedDecoder LoadDecoder(string folder, IInt8Kernel int8Kernel)
    {
        RequireFolder(folder);
        var json = ConfigJson.Load(Path.Combine(folder, "config.json"));
        var config = DecoderConfig.FromJson(json);
        bool int8 = IsInt8(json);
        var tokenizer = TextTokenizer.Load(folder);
        var template = ChatTemplate.Detect(folder, config);
        DecoderLM model;
        using (ParameterInit.Skip()) model = new DecoderLM(config);
        try
        {
            using var reader = SafetensorsReader.OpenFolder(folder);
            LoadWeights(model, model.LinearLayers(), reader, folder, int8 ? int8Kernel : null);
            model.eval();
            return new LoadedDecoder(folder, model, tokenizer, template, int8 ? "int8" : "fp32", int8 ? int8Kernel.Name : null);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>An NLU encoder folder, or an ensemble folder (model_type moltbot_nlu_ensemble, see <see cref="NluEnsembleFolder"/>).</summary>
    public static LoadedNlu LoadNlu(string folder, IInt8Kernel int8Kernel)
    {
        RequireFolder(folder);
        if (NluEnsembleFolder.IsEnsemble(folder)) return NluEnsembleFolder.Load(folder, int8Kernel);
        if (IsNgram(folder)) return LoadNgram(folder);
        var json = ConfigJson.Load(Path.Combine(folder, "config.json"));
        var config = NluEncoderConfig.FromJson(json);
        bool int8 = IsInt8(json);
        var tokenizer = TextTokenizer.Load(folder);
        NluEncoder model;
        using (ParameterInit.Skip()) model = new NluEncoder(config);
        try
        {
            using var reader = SafetensorsReader.OpenFolder(folder);
            LoadWeights(model, model.LinearLayers(), reader, folder, int8 ? int8Kernel : null);
            model.eval();
            return new LoadedNlu(folder, model, tokenizer, int8 ? "int8" : "fp32", int8 ? int8Kernel.Name : null);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>An n-gram NLU folder (model_type moltbot_nlu_ngram): config.json, model.safetensors, the tokenizer it decodes with.</summary>
    public static LoadedNlu LoadNgram(string folder)
    {
        RequireFolder(folder);
        var json = ConfigJson.Load(Path.Combine(folder, "config.json"));
        var config = NgramClassifierConfig.FromJson(json);
        if (IsInt8(json)) throw new ModelFormatException(json.File, null, "an n-gram NLU model is FP32 only (quantization_config is not supported)");
        var tokenizer = TextTokenizer.Load(folder);
        NgramClassifier model;
        using (ParameterInit.Skip()) model = new NgramClassifier(config, tokenizer);
        try
        {
            using var reader = SafetensorsReader.OpenFolder(folder);
            LoadWeights(model, model.LinearLayers(), reader, folder, null);
            model.eval();
            return new LoadedNlu(folder, model, tokenizer, "fp32", null);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Switches an FP32 decoder's projections to BF16 GEMMs (the FP32 weights are released).</summary>
    public static LoadedDecoder ToBf16(LoadedDecoder d)
    {
        RequireFp32(d.Precision, d.Folder);
        foreach (var (_, layer) in d.Model.LinearLayers()) layer.UseBf16();
        return new LoadedDecoder(d.Folder, d.Model, d.Tokenizer, d.Template, "bf16", null);
    }

    /// <summary>Switches an FP32 NLU encoder's projections and heads to BF16 GEMMs.</summary>
    public static LoadedNlu ToBf16(LoadedNlu n)
    {
        RequireFp32(n.Precision, n.Folder);
        foreach (var (_, layer) in n.Model.LinearLayers()) layer.UseBf16();
        return new LoadedNlu(n.Folder, n.Model, n.Tokenizer, "bf16", null);
    }

    private static void RequireFp32(string precision, string folder)
    {
        if (precision != "fp32") throw new InvalidOperationException($"only an FP32 model can run BF16 ({folder} is {precision})");
    }

    /// <summary>Parameters as stored in the checkpoint (INT8/BF16 projections counted although their FP32 tensor was released).</summary>
    public static long ParameterCount(nn.Module model, IEnumerable<(string Name, LinearLayer Layer)> linears)
    {
        var released = linears.Where(l => !l.Layer.HasFloatWeight).ToList();
        var names = released.Select(l => l.Name + ".weight").ToHashSet();
        return model.named_parameters().Where(p => !names.Contains(p.name)).Sum(p => p.parameter.numel())
            + released.Sum(l => (long)l.Layer.InFeatures * l.Layer.OutFeatures);
    }

    /// <summary>
    /// Saves a decoder folder: config.json, safetensors (sharded above <paramref name="maxShardBytes"/>), and the
    /// tokenizer files copied from <paramref name="tokenizerFrom"/>. With <paramref name="int8"/>, projections are
    /// quantized per output channel (the model itself is not changed).
    /// </summary>
    public static void SaveDecoder(string folder, DecoderLM model, string? tokenizerFrom, bool int8 = false, long maxShardBytes = long.MaxValue)
    {
        var config = model.Config.ToJson();
        Save(folder, model, model.LinearLayers(), config, tokenizerFrom, int8, maxShardBytes);
    }

    /// <summary>Saves an NLU folder (labels go into config.json); see <see cref="SaveDecoder"/>.</summary>
    public static void SaveNlu(string folder, NluEncoder model, string? tokenizerFrom, bool int8 = false, long maxShardBytes = long.MaxValue)
    {
        var config = model.Config.ToJson();
        Save(folder, model, model.LinearLayers(), config, tokenizerFrom, int8, maxShardBytes);
    }

    /// <summary>Saves an n-gram NLU folder (FP32 only): config.json, model.safetensors, tokenizer files from <paramref name="tokenizerFrom"/>.</summary>
    public static void SaveNgram(string folder, NgramClassifier model, string? tokenizerFrom) =>
        Save(folder, model, model.LinearLayers(), model.NgramConfig.ToJson(), tokenizerFrom, int8: false, long.MaxValue);

    /// <summary>Saves a single NLU model of either class (an encoder or an n-gram classifier); ensembles are written by <see cref="NluEnsembleFolder"/>.</summary>
    public static void SaveNluModel(string folder, NluModel model, string? tokenizerFrom)
    {
        switch (model)
        {
            case NluEncoder e: SaveNlu(folder, e, tokenizerFrom); break;
            case NgramClassifier n: SaveNgram(folder, n, tokenizerFrom); break;
            default: throw new ArgumentException($"{model.GetType().Name} is not a single NLU model");
        }
    }

    /// <summary>Only the transformer blocks and the LM head are quantized; embeddings, norms and NLU heads stay FP32.</summary>
    public static bool IsQuantizable(string linearName) =>
        linearName == "lm_head" || linearName.StartsWith("model.layers.", StringComparison.Ordinal)
        || linearName.StartsWith("encoder.layers.", StringComparison.Ordinal);

    private static void Save(string folder, nn.Module model, IEnumerable<(string Name, LinearLayer Layer)> linears, JsonObject config,
        string? tokenizerFrom, bool int8, long maxShardBytes)
    {
        Directory.CreateDirectory(folder);
        using var scope = NewDisposeScope();
        var byWeight = linears.ToDictionary(l => l.Name + ".weight", l => l);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, p) in model.named_parameters())
        {
            if (byWeight.TryGetValue(name, out var linear) && !linear.Layer.HasFloatWeight)
                throw new InvalidOperationException($"'{linear.Name}' runs INT8 or BF16 in memory (its FP32 weight was released); save the FP32 model (with int8: true to quantize)");
            if (int8 && byWeight.TryGetValue(name, out var l) && IsQuantizable(l.Name))
            {
                var (q, s) = Int8Quantizer.PerChannel(p);
                tensors.Add(new(name, q));
                tensors.Add(new(l.Name + ".weight_scale", s));
            }
            else
            {
                tensors.Add(new(name, p.detach().to(ScalarType.Float32)));
            }
        }
        if (int8) config["quantization_config"] = new JsonObject { ["quant_method"] = Int8Method, ["bits"] = 8, ["granularity"] = "per_channel" };
        SafetensorsWriter.WriteFolder(folder, tensors, maxShardBytes);
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        if (tokenizerFrom is not null && Path.GetFullPath(tokenizerFrom) != Path.GetFullPath(folder))
        {
            foreach (var f in TokenizerFiles.Select(f => Path.Combine(tokenizerFrom, f)).Where(File.Exists))
                File.Copy(f, Path.Combine(folder, Path.GetFileName(f)), overwrite: true);
            foreach (var f in Directory.GetFiles(tokenizerFrom, "*.tiktoken"))
                File.Copy(f, Path.Combine(folder, Path.GetFileName(f)), overwrite: true);
        }
    }

    private static bool IsInt8(ConfigJson json) =>
        json.Root["quantization_config"] is JsonObject q && q["quant_method"]?.GetValue<string>() == Int8Method;

    private static void RequireFolder(string folder)
    {
        if (!Directory.Exists(folder)) throw new ModelFormatException(folder, null, "model folder does not exist");
    }

    /// <summary>
    /// Copies every parameter from the checkpoint, checking presence, shape (from config.json) and dtype. F16/BF16
    /// weights are widened to FP32. I8 projections (with their scales) go to <paramref name="kernel"/>.
    /// </summary>
    private static void LoadWeights(nn.Module model, IEnumerable<(string Name, LinearLayer Layer)> linears, SafetensorsReader reader,
        string folder, IInt8Kernel? kernel)
    {
        string configFile = Path.Combine(folder, "config.json");
        var byWeight = linears.ToDictionary(l => l.Name + ".weight", l => l);
        using var noGrad = torch.no_grad();
        foreach (var (name, p) in model.named_parameters().ToList())
        {
            using var scope = NewDisposeScope();
            var entry = reader.Entry(name, reader.Files.Count == 1 ? reader.Files[0] : Path.Combine(folder, SafetensorsWriter.IndexFileName));
            if (entry.Type == ScalarType.Int8 && byWeight.TryGetValue(name, out var linear))
            {
                if (kernel is null)
                    throw new ModelFormatException(entry.File, name, "I8 tensor but config.json has no quantization_config (quant_method moltbot_int8)");
                var scaleEntry = reader.Entry(linear.Name + ".weight_scale", entry.File);
                RequireShape(entry, p.shape, configFile);
                RequireShape(scaleEntry, [p.shape[0]], configFile);
                var q = reader.Load(name);
                var s = reader.Load(scaleEntry.Name).to(ScalarType.Float32);
                linear.Layer.Quantize(kernel, q, s);
                continue;
            }
            if (entry.Type is not (ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16))
                throw new ModelFormatException(entry.File, name, $"dtype {entry.DType} is not a floating-point weight (F32, F16, BF16)");
            RequireShape(entry, p.shape, configFile);
            reader.CopyTo(name, p);
        }
    }

    private static void RequireShape(TensorEntry entry, long[] expected, string configFile)
    {
        if (!entry.Shape.SequenceEqual(expected))
            throw new ModelFormatException(entry.File, entry.Name,
                $"shape [{string.Join(",", entry.Shape)}] does not match [{string.Join(",", expected)}] implied by {configFile}");
    }
}
