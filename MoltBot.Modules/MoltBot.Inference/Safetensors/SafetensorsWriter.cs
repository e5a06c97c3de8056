using System.Text;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace MoltBot.Inference.Safetensors;

/// <summary>
/// Writes tensors in the safetensors format (8-byte LE header length, JSON header padded to 8 bytes, raw
/// little-endian data), optionally sharded with a model.safetensors.index.json like Hugging Face does.
/// </summary>
public static class SafetensorsWriter
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>Writes one file. Tensors are copied to CPU and made contiguous; their dtype is kept.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        foreach (var (name, t) in list)
        {
            long size = t.numel() * t.element_size();
            header[name] = new JsonObject
            {
                ["dtype"] = SafetensorsDType.NameOf(t.dtype),
                ["shape"] = new JsonArray(t.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + size),
            };
            offset += size;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        string tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            Span<byte> len = stackalloc byte[8];
            BitConverter.TryWriteBytes(len, (long)padded);
            fs.Write(len);
            fs.Write(json);
            for (int i = json.Length; i < padded; i++) fs.WriteByte((byte)' ');
            foreach (var (_, t) in list)
            {
                if (t.numel() == 0) continue;
                using var c = t.detach().cpu().contiguous();
                fs.Write(c.bytes);
            }
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> into <paramref name="folder"/>: one model.safetensors when they fit in
    /// <paramref name="maxShardBytes"/>, else model-0000i-of-0000n.safetensors plus the index (weight_map).
    /// </summary>
    public static void WriteFolder(string folder, IEnumerable<KeyValuePair<string, Tensor>> tensors, long maxShardBytes = long.MaxValue,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(folder);
        var shards = new List<List<KeyValuePair<string, Tensor>>> { new() };
        long current = 0, total = 0;
        foreach (var kv in tensors)
        {
            long size = kv.Value.numel() * kv.Value.element_size();
            if (current > 0 && current + size > maxShardBytes)
            {
                shards.Add([]);
                current = 0;
            }
            shards[^1].Add(kv);
            current += size;
            total += size;
        }
        foreach (var stale in Directory.GetFiles(folder, "model*.safetensors*")) File.Delete(stale);
        if (shards.Count == 1)
        {
            Write(Path.Combine(folder, SingleFileName), shards[0], metadata ?? new Dictionary<string, string> { ["format"] = "pt" });
            return;
        }
        var weightMap = new JsonObject();
        for (int i = 0; i < shards.Count; i++)
        {
            string file = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            Write(Path.Combine(folder, file), shards[i], metadata ?? new Dictionary<string, string> { ["format"] = "pt" });
            foreach (var (name, _) in shards[i]) weightMap[name] = file;
        }
        var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = weightMap };
        File.WriteAllText(Path.Combine(folder, IndexFileName), index.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }
}
