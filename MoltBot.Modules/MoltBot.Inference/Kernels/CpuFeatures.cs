namespace MoltBot.Inference.Kernels;

/// <summary>CPU capabilities that decide whether a precision is worth running (read once from /proc/cpuinfo on Linux).</summary>
public static class CpuFeatures
{
    private static readonly Lazy<string[]> Flags = new(ReadFlags);

    /// <summary>AVX-512 BF16 or AMX-BF16: native BF16 dot products (without them libtorch emulates BF16 GEMMs).</summary>
    public static bool HasBf16Gemm => Flags.Value.Contains("avx512_bf16") || Flags.Value.Contains("amx_bf16");

    private static string[] ReadFlags()
    {
        try
        {
            string? line = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) : null;
            return line is null ? [] : line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (IOException)
        {
            return [];
        }
    }
}
