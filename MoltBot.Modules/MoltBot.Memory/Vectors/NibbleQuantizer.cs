using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MoltBot.Memory.Vectors;

/// <summary>
/// 4-bit scalar quantization of vectors for the HNSW graph walk, trained per dimension: component d is stored as
/// u ∈ [0, 15] with v ≈ centre[d] + step[d] · (u − 7.5), the 16 levels spanning that dimension's 0.1–99.9 %
/// range (rarer values are clamped). 128 dimensions fit one 64-byte cache line: a walk that reads
/// tens of thousands of random vectors per query touches half the lines and a quarter of the pages of int8 codes,
/// which on this hardware matters more than arithmetic (page-table walks and cache misses dominate).
/// </summary>
/// <remarks>
/// Layout: a code has <see cref="CodeBytes"/> bytes (half the dimensions rounded up to 32); byte j holds
/// dimension j in its low nibble and dimension j + CodeBytes in its high nibble, so the query side is the plain
/// dimension order. A query is prepared once: its weights w[d] = q[d] · step[d] become int8 (one scale α), and
/// q · v ≈ Σ q[d] centre[d] − 7.5 α Σ a[d] + α Σ a[d] u[d]; the last sum is an exact integer dot product.
/// </remarks>
internal sealed class NibbleQuantizer
{

    /// <summary>A floor for the step of a dimension that does not vary (any step encodes a constant exactly).</summary>
    private const float MinStep = 1e-6f;

    private readonly float[] _center;
    private readonly float[] _step;

    public NibbleQuantizer(int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        Dimension = dimension;
        CodeBytes = CodeBytesFor(dimension);
        _center = new float[dimension];
        _step = new float[dimension];
        Array.Fill(_step, 1f / 64); // before training: components of unit vectors, ± 0.12 representable
    }

    public int Dimension { get; }

    /// <summary>Bytes per code for a dimension: half of it, rounded up to a multiple of 32.</summary>
    public static int CodeBytesFor(int dimension) => ((dimension + 1) / 2 + 31) / 32 * 32;

    /// <summary>Bytes per code: a multiple of 32 (one AVX2 register), 64 for 128 dimensions.</summary>
    public int CodeBytes { get; }

    /// <summary>Query weights per code: the dimensions padded to 2 · <see cref="CodeBytes"/> (padding weighs 0).</summary>
    public int WeightCount => 2 * CodeBytes;

    /// <summary>How many vectors the current statistics come from (0 before the first training).</summary>
    public int TrainedOn { get; private set; }

    /// <summary>
    /// Learns each dimension's range from a sample: the 0.1 % and 99.9 % quantiles (so one outlier does not
    /// stretch the step for everyone; for Gaussian data ± 3.1 σ, a step of 0.41 σ). Previous codes become stale.
    /// </summary>
    /// <param name="sample">The vectors to learn from (the index passes an even sample of at most a few thousand).</param>
    /// <param name="population">How many vectors the sample stands for (kept as <see cref="TrainedOn"/>).</param>
    public void Train(IReadOnlyList<ReadOnlyMemory<float>> sample, int population)
    {
        int n = sample.Count;
        if (n == 0) return;
        var values = new float[n];
        int low = (int)(0.001 * (n - 1)), high = n - 1 - low;
        for (int d = 0; d < Dimension; d++)
        {
            for (int i = 0; i < n; i++) values[i] = sample[i].Span[d];
            Array.Sort(values);
            float lo = values[low], hi = values[high];
            _center[d] = 0.5f * (lo + hi);
            _step[d] = MathF.Max(MinStep, (hi - lo) / 15f);
        }
        TrainedOn = population;
    }

    /// <summary>The learned statistics, for the snapshot (so a reloaded index encodes exactly as the saved one did).</summary>
    public Statistics Save() => new(_center.ToArray(), _step.ToArray(), TrainedOn);

    /// <summary>Takes statistics from a snapshot; throws <see cref="InvalidDataException"/> if they do not fit.</summary>
    public void Load(Statistics statistics)
    {
        if (statistics.Center.Length != Dimension || statistics.Step.Length != Dimension || statistics.TrainedOn < 0)
        {
            throw new InvalidDataException($"HNSW snapshot code statistics have {statistics.Center.Length}/{statistics.Step.Length} dimensions; the index has {Dimension}.");
        }
        for (int d = 0; d < Dimension; d++)
        {
            if (!float.IsFinite(statistics.Center[d]) || !(statistics.Step[d] >= MinStep) || !float.IsFinite(statistics.Step[d]))
            {
                throw new InvalidDataException($"HNSW snapshot code statistics are invalid at dimension {d}.");
            }
        }
        statistics.Center.CopyTo(_center, 0);
        statistics.Step.CopyTo(_step, 0);
        TrainedOn = statistics.TrainedOn;
    }

    /// <summary>Per-dimension centre and step, and how many vectors they were learned from.</summary>
    public sealed record Statistics(float[] Center, float[] Step, int TrainedOn);

    /// <summary>Writes the 4-bit code of <paramref name="v"/> (<see cref="Dimension"/> components) to <paramref name="code"/>.</summary>
    public void Encode(ReadOnlySpan<float> v, Span<byte> code)
    {
        code[..CodeBytes].Clear();
        for (int d = 0; d < Dimension; d++)
        {
            int u = (int)MathF.Round((v[d] - _center[d]) / _step[d] + 7.5f, MidpointRounding.AwayFromZero);
            u = Math.Clamp(u, 0, 15);
            if (d < CodeBytes) code[d] |= (byte)u;
            else code[d - CodeBytes] |= (byte)(u << 4);
        }
    }

    /// <summary>The vector a code stands for (tests measure the quantization error with it).</summary>
    public float[] Decode(ReadOnlySpan<byte> code)
    {
        var v = new float[Dimension];
        for (int d = 0; d < Dimension; d++)
        {
            int u = d < CodeBytes ? code[d] & 15 : code[d - CodeBytes] >> 4;
            v[d] = _center[d] + _step[d] * (u - 7.5f);
        }
        return v;
    }

    /// <summary>
    /// Prepares a query: int8 weights (<see cref="WeightCount"/> of them) and the affine map from the integer dot
    /// product to the approximate q · v: similarity ≈ offset + scale · <see cref="Dot"/>.
    /// </summary>
    public (float Scale, float Offset) PrepareQuery(ReadOnlySpan<float> q, Span<sbyte> weights)
    {
        weights[..WeightCount].Clear();
        float max = 0;
        double centreTerm = 0;
        for (int d = 0; d < Dimension; d++)
        {
            max = MathF.Max(max, MathF.Abs(q[d] * _step[d]));
            centreTerm += (double)q[d] * _center[d];
        }
        if (!(max > 0)) return (0, (float)centreTerm);
        float scale = max / 127f;
        int weightSum = 0;
        for (int d = 0; d < Dimension; d++)
        {
            int a = Math.Clamp((int)MathF.Round(q[d] * _step[d] / scale), -127, 127);
            weights[d] = (sbyte)a;
            weightSum += a;
        }
        return (scale, (float)(centreTerm - 7.5 * scale * weightSum));
    }

    /// <summary>
    /// Σ weights[d] · u[d] over a code of <paramref name="codeBytes"/> bytes (a multiple of 32), exact. AVX2: the
    /// nibbles are split into unsigned bytes and multiplied with the signed weights (pairs summed to 16 bits, at most
    /// 2 · 15 · 127 each), then widened to 32-bit lanes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Dot(ref sbyte weights, ref byte code, int codeBytes)
    {
        nuint n = (uint)codeBytes;
        if (Avx2.IsSupported)
        {
            var mask = Vector256.Create((byte)15);
            var ones = Vector256.Create((short)1);
            var acc = Vector256<int>.Zero;
            for (nuint j = 0; j < n; j += 32)
            {
                var bytes = Vector256.LoadUnsafe(ref code, j);
                var low = bytes & mask;
                var high = Avx2.ShiftRightLogical(bytes.AsUInt16(), 4).AsByte() & mask;
                var pairs = Avx2.Add(
                    Avx2.MultiplyAddAdjacent(low, Vector256.LoadUnsafe(ref weights, j)),
                    Avx2.MultiplyAddAdjacent(high, Vector256.LoadUnsafe(ref weights, n + j)));
                acc = Avx2.Add(acc, Avx2.MultiplyAddAdjacent(pairs, ones));
            }
            return Vector256.Sum(acc);
        }
        int sum = 0;
        for (nuint j = 0; j < n; j++)
        {
            int b = Unsafe.Add(ref code, j);
            sum += (b & 15) * Unsafe.Add(ref weights, j) + (b >> 4) * Unsafe.Add(ref weights, n + j);
        }
        return sum;
    }

    /// <summary><see cref="Dot"/> on spans, bounds-checked (tests).</summary>
    public static int Dot(ReadOnlySpan<sbyte> weights, ReadOnlySpan<byte> code)
    {
        if (code.Length % 32 != 0 || weights.Length != 2 * code.Length) throw new ArgumentException($"A code of {code.Length} bytes (a multiple of 32) needs {2 * code.Length} weights, not {weights.Length}.");
        return Dot(ref MemoryMarshal.GetReference(weights), ref MemoryMarshal.GetReference(code), code.Length);
    }
}
