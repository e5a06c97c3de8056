namespace MoltBot.Inference.Kernels;

/// <summary>Which int8 path runs the student, and why (reported at start-up and in the model catalog).</summary>
public sealed record Int8KernelChoice(IInt8Kernel Kernel, string Reason);

/// <summary>
/// Picks the fastest correct int8 path: fbgemm int8 GEMM (measured ≈2–2.5× faster than FP32 linear here) when it
/// compiles and passes its self-test, else the weight-only fallback (dequantized FP32).
/// </summary>
public static class Int8KernelSelector
{
    /// <param name="preference">"auto", "fbgemm" or "weight-only" (Inference:Int8Kernel).</param>
    public static Int8KernelChoice Select(string preference)
    {
        if (string.Equals(preference, "weight-only", StringComparison.OrdinalIgnoreCase))
            return new(new WeightOnlyKernel(), "configured Inference:Int8Kernel = weight-only");
        var fbgemm = FbgemmInt8Kernel.TryCreate(out string? whyNot);
        if (fbgemm is not null) return new(fbgemm, "fbgemm int8 GEMM compiled and passed its self-test");
        return new(new WeightOnlyKernel(), $"fbgemm unavailable ({whyNot}); using dequantized FP32 weights");
    }
}
