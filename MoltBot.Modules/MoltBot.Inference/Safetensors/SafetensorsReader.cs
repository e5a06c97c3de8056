using System.Text.Json;
using MoltBot.Inference.Models;
using static TorchSharp.torch;

namespace MoltBot.Inference.Safetensors;

/// <summary>
/// All tensors of a model folder: either model.safetensors, or the shards listed by model.safetensors.index.json
/// (weight_map: tensor name → shard file). Files are memory-mapped and validated when opened.
/// </summary>
public sealed class SafetensorsReader : IDisposable
{
    private readonly List<SafetensorsFile> files;
    private readonly Dictionary<string, SafetensorsFile> byTensor;

    private SafetensorsReader(List<SafetensorsFile> files, Dictionary<string, SafetensorsFile> byTensor)
    {
        this.files = files;
        this.byTensor = byTensor;
    }

    public IReadOnlyCollection<string> Names => byTensor.Keys;
    public IReadOnlyList<string> Files => files.Select(f => f.Path).ToList();

    public static SafetensorsReader OpenFolder(string folder)
    {
        string index = Path.Combine(folder, SafetensorsWriter.IndexFileName);
        string single = Path.Combine(folder, SafetensorsWriter.SingleFileName);
        if (File.Exists(index)) return OpenSharded(index);
        if (File.Exists(single)) return OpenFiles([single], null, null);
        throw new ModelFormatException(single, null, $"no model.safetensors and no {SafetensorsWriter.IndexFileName} in the folder");
    }

    public static SafetensorsReader OpenFile(string file) => OpenFiles([file], null, null);

    private static SafetensorsReader OpenSharded(string indexFile)
    {
        string dir = Path.GetDirectoryName(indexFile)!;
        var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(indexFile));
            if (!doc.RootElement.TryGetProperty("weight_map", out var wm) || wm.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException(indexFile, null, "index has no weight_map object");
            foreach (var p in wm.EnumerateObject())
            {
                string? f = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
                if (string.IsNullOrEmpty(f) || f.Contains('/') || f.Contains('\\') || f.Contains(".."))
                    throw new ModelFormatException(indexFile, p.Name, "weight_map entry must be a plain file name in the folder");
                weightMap[p.Name] = f;
            }
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException(indexFile, null, $"index is not valid JSON ({ex.Message})");
        }
        var shardFiles = weightMap.Values.Distinct().Select(f => Path.Combine(dir, f)).ToList();
        return OpenFiles(shardFiles, weightMap, indexFile);
    }

    private static SafetensorsReader OpenFiles(IReadOnlyList<string> paths, Dictionary<string, string>? weightMap, string? indexFile)
    {
        var files = new List<SafetensorsFile>();
        try
        {
            var byTensor = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (var p in paths)
            {
                var f = SafetensorsFile.Open(p);
                files.Add(f);
                foreach (var name in f.Tensors.Keys)
                {
                    if (byTensor.TryGetValue(name, out var other))
                        throw new ModelFormatException(p, name, $"tensor also appears in {other.Path}");
                    byTensor[name] = f;
                }
            }
            if (weightMap is not null)
            {
                foreach (var (name, file) in weightMap)
                {
                    if (!byTensor.TryGetValue(name, out var f) || Path.GetFileName(f.Path) != file)
                        throw new ModelFormatException(Path.Combine(Path.GetDirectoryName(indexFile)!, file), name,
                            $"tensor is listed in {Path.GetFileName(indexFile)} but not stored in this shard");
                }
            }
            return new SafetensorsReader(files, byTensor);
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => byTensor.ContainsKey(name);

    public TensorEntry Entry(string name, string expectedIn) =>
        byTensor.TryGetValue(name, out var f) ? f.Tensors[name]
            : throw new ModelFormatException(expectedIn, name, "tensor is missing");

    /// <summary>Loads a tensor in its stored dtype (CPU).</summary>
    public Tensor Load(string name) =>
        byTensor.TryGetValue(name, out var f) ? f.Load(name) : throw new ModelFormatException(files.FirstOrDefault()?.Path ?? "?", name, "tensor is missing");

    /// <summary>Copies a stored tensor into <paramref name="destination"/> (converting the dtype if needed).</summary>
    public void CopyTo(string name, Tensor destination)
    {
        if (!byTensor.TryGetValue(name, out var f)) throw new ModelFormatException(files.FirstOrDefault()?.Path ?? "?", name, "tensor is missing");
        f.CopyTo(name, destination);
    }

    public void Dispose()
    {
        foreach (var f in files) f.Dispose();
    }
}
