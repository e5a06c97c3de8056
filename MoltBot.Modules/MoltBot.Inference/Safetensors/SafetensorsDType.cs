using static TorchSharp.torch;

namespace MoltBot.Inference.Safetensors;

/// <summary>The safetensors dtype strings this reader/writer understands, and their torch types.</summary>
public static class SafetensorsDType
{
    private static readonly Dictionary<string, (ScalarType Type, int Size)> ByName = new(StringComparer.Ordinal)
    {
        ["F32"] = (ScalarType.Float32, 4),
        ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2),
        ["I8"] = (ScalarType.Int8, 1),
        ["U8"] = (ScalarType.Byte, 1),
        ["I32"] = (ScalarType.Int32, 4),
        ["I64"] = (ScalarType.Int64, 8),
    };

    public static IReadOnlyCollection<string> Supported => ByName.Keys;

    public static bool TryParse(string name, out ScalarType type, out int size)
    {
        bool ok = ByName.TryGetValue(name, out var e);
        (type, size) = e;
        return ok;
    }

    public static string NameOf(ScalarType type) =>
        ByName.FirstOrDefault(kv => kv.Value.Type == type).Key ?? throw new ArgumentException($"dtype {type} cannot be stored in safetensors here");
}
