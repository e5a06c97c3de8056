using MoltBot.Memory.Vectors;

namespace MoltBot.Tests.Memory;

public class NibbleQuantizerTests
{
    private static NibbleQuantizer Trained(float[][] data)
    {
        var quantizer = new NibbleQuantizer(data[0].Length);
        quantizer.Train(data.Select(v => (ReadOnlyMemory<float>)v).ToList(), data.Length);
        return quantizer;
    }

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(96)]
    [InlineData(192)]
    public void Simd_nibble_dot_product_equals_the_scalar_one_exactly(int codeBytes)
    {
        var rng = new Random(codeBytes);
        var code = Enumerable.Range(0, codeBytes).Select(_ => (byte)rng.Next(256)).ToArray();
        var weights = Enumerable.Range(0, 2 * codeBytes).Select(_ => (sbyte)rng.Next(-127, 128)).ToArray();
        int exact = 0;
        for (int j = 0; j < codeBytes; j++) exact += (code[j] & 15) * weights[j] + (code[j] >> 4) * weights[codeBytes + j];

        Assert.Equal(exact, NibbleQuantizer.Dot(weights, code));

        // Extremes: every nibble 15 against ±127 (the largest 16-bit pair sums the kernel forms).
        Array.Fill(code, (byte)0xFF);
        Array.Fill(weights, (sbyte)127);
        Assert.Equal(2 * codeBytes * 15 * 127, NibbleQuantizer.Dot(weights, code));
        Array.Fill(weights, (sbyte)-127);
        Assert.Equal(-2 * codeBytes * 15 * 127, NibbleQuantizer.Dot(weights, code));
    }

    [Theory]
    [InlineData(1, 32)]
    [InlineData(33, 32)]
    [InlineData(64, 32)]
    [InlineData(65, 64)]
    [InlineData(128, 64)]
    [InlineData(256, 128)]
    [InlineData(384, 192)]
    public void A_code_holds_two_dimensions_per_byte_in_whole_registers(int dimension, int codeBytes)
    {
        Assert.Equal(codeBytes, new NibbleQuantizer(dimension).CodeBytes);
        Assert.Equal(codeBytes, NibbleQuantizer.CodeBytesFor(dimension));
        Assert.Throws<ArgumentException>(() => NibbleQuantizer.Dot(new sbyte[2 * codeBytes - 1], new byte[codeBytes]));
    }

    [Theory]
    [InlineData(128)]
    [InlineData(100)] // not a multiple of the register: the upper dimensions share bytes with the lower ones
    public void Decoding_recovers_each_component_within_half_a_step(int dimension)
    {
        var data = VectorData.RandomGaussian(2_000, dimension, seed: 31).Select(v => VectorMath.Normalized(v)).ToArray();
        var quantizer = Trained(data);
        var code = new byte[quantizer.CodeBytes];
        double squared = 0;
        int clamped = 0, components = 0;
        foreach (var v in data.Take(300))
        {
            quantizer.Encode(v, code);
            var back = quantizer.Decode(code);
            for (int d = 0; d < dimension; d++)
            {
                double error = Math.Abs(back[d] - v[d]);
                squared += error * error;
                components++;
                // σ ≈ 1/√dim per component, step ≈ 0.4σ: within half a step unless clamped beyond ±3σ (≈ 0.3 %).
                if (error > 0.25 / Math.Sqrt(dimension)) clamped++;
            }
        }
        double rms = Math.Sqrt(squared / components);
        Assert.True(clamped < components * 0.01, $"{clamped} of {components} components off by more than half a step");
        Assert.True(rms < 0.14 / Math.Sqrt(dimension), $"rms error {rms} (σ per component {1 / Math.Sqrt(dimension):F4})");
    }

    [Fact]
    public void Prepared_queries_approximate_the_float_dot_product_of_unit_vectors()
    {
        var data = VectorData.RandomGaussian(2_000, 128, seed: 32).Select(v => VectorMath.Normalized(v)).ToArray();
        var queries = VectorData.RandomGaussian(50, 128, seed: 33).Select(v => VectorMath.Normalized(v)).ToArray();
        var quantizer = Trained(data);
        var codes = data.Select(v =>
        {
            var c = new byte[quantizer.CodeBytes];
            quantizer.Encode(v, c);
            return c;
        }).ToArray();
        var weights = new sbyte[quantizer.WeightCount];
        double worst = 0, squared = 0;
        int n = 0;
        foreach (var q in queries)
        {
            var (scale, offset) = quantizer.PrepareQuery(q, weights);
            for (int i = 0; i < data.Length; i++)
            {
                double error = Math.Abs(offset + scale * NibbleQuantizer.Dot(weights, codes[i]) - VectorMath.Dot(q, data[i]));
                worst = Math.Max(worst, error);
                squared += error * error;
                n++;
            }
        }
        // Expected error ≈ √dim · σ · (0.12 σ) ≈ 0.01 for 128-d unit vectors; the walk only needs this coarse order,
        // the hits are re-ranked with exact floats.
        Assert.True(Math.Sqrt(squared / n) < 0.015, $"rms error {Math.Sqrt(squared / n)}");
        Assert.True(worst < 0.08, $"worst error {worst}");
    }

    [Fact]
    public void Training_per_dimension_follows_shifted_and_stretched_components()
    {
        // Sentence embeddings are anisotropic: per-dimension means and spreads differ by orders of magnitude.
        var rng = new Random(34);
        var data = VectorData.RandomGaussian(3_000, 64, seed: 35)
            .Select(v => v.Select((x, d) => d % 4 == 0 ? 5f + 0.01f * x : d % 4 == 1 ? 3f * x : x).ToArray()).ToArray();
        var quantizer = Trained(data);
        var code = new byte[quantizer.CodeBytes];
        var worstRelative = new double[64];
        foreach (var v in data.Take(500))
        {
            quantizer.Encode(v, code);
            var back = quantizer.Decode(code);
            for (int d = 0; d < 64; d++)
            {
                double sigma = d % 4 == 0 ? 0.01 : d % 4 == 1 ? 3 : 1;
                worstRelative[d] = Math.Max(worstRelative[d], Math.Abs(back[d] - v[d]) / sigma);
            }
        }
        // Within a few tenths of that dimension's own σ (clamped tails a little more) — a global scale would lose the
        // 0.01-σ dimensions entirely next to the 3-σ ones.
        Assert.All(worstRelative, w => Assert.True(w < 1.0, $"worst error {w} σ"));
        Assert.True(worstRelative.Average() < 0.6, $"mean worst error {worstRelative.Average()} σ");
        Assert.Equal(3_000, quantizer.TrainedOn);
    }

    [Fact]
    public void Statistics_round_trip_and_bad_ones_are_rejected()
    {
        var data = VectorData.RandomGaussian(500, 48, seed: 36);
        var quantizer = Trained(data);
        var copy = new NibbleQuantizer(48);
        copy.Load(quantizer.Save());
        var a = new byte[quantizer.CodeBytes];
        var b = new byte[quantizer.CodeBytes];
        foreach (var v in data.Take(50))
        {
            quantizer.Encode(v, a);
            copy.Encode(v, b);
            Assert.Equal(a, b);
        }
        Assert.Equal(500, copy.TrainedOn);

        var wrongDimension = new NibbleQuantizer(47).Save();
        Assert.Throws<InvalidDataException>(() => copy.Load(wrongDimension));
        var s = quantizer.Save();
        s.Step[3] = 0;
        Assert.Throws<InvalidDataException>(() => copy.Load(s));
        s.Step[3] = 1;
        s.Center[5] = float.NaN;
        Assert.Throws<InvalidDataException>(() => copy.Load(s));
    }
}
