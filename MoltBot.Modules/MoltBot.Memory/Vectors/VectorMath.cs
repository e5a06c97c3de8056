using System.Numerics;
using System.Runtime.InteropServices;

namespace MoltBot.Memory.Vectors;

/// <summary>SIMD dot product and normalization; cosine distance on unit vectors is 1 − dot.</summary>
public static class VectorMath
{
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Vector lengths differ ({a.Length} vs {b.Length}).");
        int i = 0;
        float sum = 0;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
            var acc = Vector<float>.Zero;
            for (int j = 0; j < va.Length; j++) acc += va[j] * vb[j];
            sum = Vector.Sum(acc);
            i = va.Length * Vector<float>.Count;
        }
        for (; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>A unit-length copy; throws for a zero or non-finite vector (it has no direction to compare).</summary>
    public static float[] Normalized(ReadOnlySpan<float> v)
    {
        float norm = MathF.Sqrt(Dot(v, v));
        if (!(norm > 0) || float.IsInfinity(norm)) throw new ArgumentException("A zero or non-finite vector cannot be indexed.");
        var result = new float[v.Length];
        for (int i = 0; i < v.Length; i++) result[i] = v[i] / norm;
        return result;
    }
}
