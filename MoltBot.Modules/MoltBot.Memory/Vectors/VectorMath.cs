using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MoltBot.Memory.Vectors;

/// <summary>SIMD dot product and normalization; cosine distance on unit vectors is 1 − dot.</summary>
public static class VectorMath
{
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Vector lengths differ ({a.Length} vs {b.Length}).");
        return DotUnchecked(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(b), a.Length);
    }

    /// <summary>
    /// The dot product of two runs of <paramref name="length"/> floats, without bounds checks (the HNSW index
    /// calls it with offsets into its own vector array). Widest hardware vectors first, two independent
    /// accumulators (so consecutive fused multiply-adds do not wait on each other), a scalar tail for odd lengths.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float DotUnchecked(ref float a, ref float b, int length)
    {
        nuint n = (uint)length, i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i + 32 <= n; i += 32)
            {
                acc0 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref a, i), Vector512.LoadUnsafe(ref b, i), acc0);
                acc1 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref a, i + 16), Vector512.LoadUnsafe(ref b, i + 16), acc1);
            }
            if (i + 16 <= n)
            {
                acc0 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref a, i), Vector512.LoadUnsafe(ref b, i), acc0);
                i += 16;
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i + 16 <= n; i += 16)
            {
                acc0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref a, i), Vector256.LoadUnsafe(ref b, i), acc0);
                acc1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref a, i + 8), Vector256.LoadUnsafe(ref b, i + 8), acc1);
            }
            if (i + 8 <= n)
            {
                acc0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref a, i), Vector256.LoadUnsafe(ref b, i), acc0);
                i += 8;
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        else if (Vector128.IsHardwareAccelerated && n >= 4)
        {
            var acc = Vector128<float>.Zero;
            for (; i + 4 <= n; i += 4) acc = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref a, i), Vector128.LoadUnsafe(ref b, i), acc);
            sum = Vector128.Sum(acc);
        }
        for (; i < n; i++) sum += Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
        return sum;
    }

    /// <summary>A unit-length copy; throws for a zero or non-finite vector (it has no direction to compare).</summary>
    public static float[] Normalized(ReadOnlySpan<float> v)
    {
        var result = new float[v.Length];
        NormalizeInto(v, result);
        return result;
    }

    /// <summary>Writes the unit-length form of <paramref name="v"/> into <paramref name="destination"/> (same length).</summary>
    public static void NormalizeInto(ReadOnlySpan<float> v, Span<float> destination)
    {
        if (destination.Length != v.Length) throw new ArgumentException($"Vector lengths differ ({v.Length} vs {destination.Length}).");
        float norm = MathF.Sqrt(Dot(v, v));
        if (!(norm > 0) || float.IsInfinity(norm)) throw new ArgumentException("A zero or non-finite vector cannot be indexed.");
        for (int i = 0; i < v.Length; i++) destination[i] = v[i] / norm;
    }
}
