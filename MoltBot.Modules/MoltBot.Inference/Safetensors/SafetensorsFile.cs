using TorchSharp;
using System.IO.MemoryMappedFiles;
using System.Text;
using System.Text.Json;
using MoltBot.Inference.Models;
using static TorchSharp.torch;

namespace MoltBot.Inference.Safetensors;

/// <summary>Where one tensor lives: dtype, shape and its byte range in the data section of <see cref="File"/>.</summary>
public sealed record TensorEntry(string Name, string File, string DType, ScalarType Type, long[] Shape, long Begin, long End);

/// <summary>
/// One .safetensors file, memory-mapped and validated when opened: 8-byte little-endian header length, JSON header,
/// known dtypes, non-negative shapes, offsets inside the file, byte counts that match dtype × shape, no overlaps.
/// Every error is a <see cref="ModelFormatException"/> naming the file and the tensor.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private const long MaxHeader = 100L * 1024 * 1024;
    private readonly MemoryMappedFile map;
    private readonly MemoryMappedViewAccessor view;
    private readonly byte* basePtr;
    private readonly long dataStart;

    private SafetensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, long dataStart,
        Dictionary<string, TensorEntry> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        this.map = map;
        this.view = view;
        this.dataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        basePtr = p + view.PointerOffset;
    }

    public string Path { get; }
    public IReadOnlyDictionary<string, TensorEntry> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, null, "file does not exist");
        long length = new FileInfo(path).Length;
        if (length < 8) throw new ModelFormatException(path, null, $"truncated: {length} bytes, shorter than the 8-byte header length");
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            long headerLength = view.ReadInt64(0);
            if (headerLength <= 0 || headerLength > MaxHeader)
                throw new ModelFormatException(path, null, $"header length {headerLength} is not in 1..{MaxHeader} (not a safetensors file?)");
            if (8 + headerLength > length)
                throw new ModelFormatException(path, null, $"truncated: header says {headerLength} bytes of JSON but the file has {length - 8}");
            var headerBytes = new byte[headerLength];
            view.ReadArray(8, headerBytes, 0, headerBytes.Length);
            long dataLength = length - 8 - headerLength;
            var (tensors, metadata) = ParseHeader(path, headerBytes, dataLength);
            return new SafetensorsFile(path, map, view, 8 + headerLength, tensors, metadata);
        }
        catch
        {
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    private static (Dictionary<string, TensorEntry>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(Encoding.UTF8.GetString(header).TrimEnd(' ', '\0'));
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException(path, null, $"header is not valid JSON ({ex.Message})");
        }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ModelFormatException(path, null, "header is not a JSON object");
        var tensors = new Dictionary<string, TensorEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var prop in doc.RootElement.EnumerateObject())
        {
            if (prop.Name == "__metadata__")
            {
                if (prop.Value.ValueKind == JsonValueKind.Object)
                    foreach (var m in prop.Value.EnumerateObject()) metadata[m.Name] = m.Value.ToString();
                continue;
            }
            tensors[prop.Name] = ParseEntry(path, prop.Name, prop.Value, dataLength);
        }
        // Two tensors must not share bytes: a header that lies about offsets often does.
        TensorEntry? prev = null;
        foreach (var e in tensors.Values.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (prev is not null && e.Begin < prev.End && e.End > e.Begin)
                throw new ModelFormatException(path, e.Name, $"data_offsets [{e.Begin}, {e.End}] overlap tensor '{prev.Name}' [{prev.Begin}, {prev.End}]");
            prev = e;
        }
        return (tensors, metadata);
    }

    private static TensorEntry ParseEntry(string path, string name, JsonElement e, long dataLength)
    {
        if (e.ValueKind != JsonValueKind.Object
            || !e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String
            || !e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array
            || !e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new ModelFormatException(path, name, "header entry needs dtype, shape and data_offsets [begin, end]");
        string dtype = dt.GetString()!;
        if (!SafetensorsDType.TryParse(dtype, out var type, out int size))
            throw new ModelFormatException(path, name, $"unknown dtype '{dtype}' (supported: {string.Join(", ", SafetensorsDType.Supported)})");
        var shape = new long[sh.GetArrayLength()];
        int i = 0;
        long count = 1;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v) || v < 0)
                throw new ModelFormatException(path, name, "shape must be a list of non-negative integers");
            shape[i++] = v;
            count = checked(count * v);
        }
        if (!off[0].TryGetInt64(out long begin) || !off[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw new ModelFormatException(path, name, "data_offsets must be two integers 0 ≤ begin ≤ end");
        if (end > dataLength)
            throw new ModelFormatException(path, name, $"data_offsets end {end} is past the end of the data ({dataLength} bytes): truncated file or lying header");
        if (end - begin != count * size)
            throw new ModelFormatException(path, name, $"data_offsets span {end - begin} bytes but {dtype}[{string.Join(",", shape)}] needs {count * size}");
        return new TensorEntry(name, path, dtype, type, shape, begin, end);
    }

    /// <summary>Copies the tensor out of the mapped file into a new CPU tensor of its stored dtype.</summary>
    public Tensor Load(string name)
    {
        if (!Tensors.TryGetValue(name, out var e)) throw new ModelFormatException(Path, name, "tensor is missing");
        var t = torch.empty(e.Shape, e.Type);
        CopyBytes(e, t);
        return t;
    }

    /// <summary>
    /// Fills <paramref name="destination"/> (same shape) from the mapped file: one memcpy when the dtypes match and the
    /// destination is a contiguous CPU tensor, else through a temporary tensor and a converting copy.
    /// </summary>
    public void CopyTo(string name, Tensor destination)
    {
        if (!Tensors.TryGetValue(name, out var e)) throw new ModelFormatException(Path, name, "tensor is missing");
        if (destination.dtype == e.Type && destination.device_type == DeviceType.CPU && destination.is_contiguous())
        {
            CopyBytes(e, destination);
            return;
        }
        using var t = Load(name);
        using var noGrad = torch.no_grad();
        destination.copy_(t);
    }

    private void CopyBytes(TensorEntry e, Tensor t)
    {
        long bytes = e.End - e.Begin;
        if (bytes == 0) return;
        // Tensor.bytes is a span over the tensor's own memory: copy straight into it (no managed buffer).
        new ReadOnlySpan<byte>(basePtr + dataStart + e.Begin, checked((int)bytes)).CopyTo(t.bytes);
    }

    public void Dispose()
    {
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        map.Dispose();
    }
}
