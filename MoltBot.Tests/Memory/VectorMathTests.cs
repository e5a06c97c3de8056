using MoltBot.Memory.Vectors;

namespace MoltBot.Tests.Memory;

public class VectorMathTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(17)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(63)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(129)]
    [InlineData(385)]
    public void Simd_dot_product_equals_the_scalar_one_on_any_length(int length)
    {
        var rng = new Random(length);
        var a = new float[length];
        var b = new float[length];
        for (int i = 0; i < length; i++)
        {
            a[i] = (float)(rng.NextDouble() * 2 - 1);
            b[i] = (float)(rng.NextDouble() * 2 - 1);
        }
        double exact = 0, magnitude = 0;
        for (int i = 0; i < length; i++)
        {
            exact += (double)a[i] * b[i];
            magnitude += Math.Abs((double)a[i] * b[i]);
        }

        float dot = VectorMath.Dot(a, b);

        // Summation order differs (lanes, two accumulators, fused multiply-add): equal up to float rounding.
        Assert.True(Math.Abs(dot - exact) <= 1e-5 * Math.Max(1, magnitude), $"length {length}: {dot} vs {exact}");
    }

    [Fact]
    public void Dot_of_an_offset_slice_uses_only_that_slice()
    {
        var data = Enumerable.Range(0, 300).Select(i => (float)(i % 13) - 6).ToArray();
        var a = data.AsSpan(3, 131);
        var b = data.AsSpan(150, 131);
        double exact = 0;
        for (int i = 0; i < 131; i++) exact += (double)a[i] * b[i];
        Assert.Equal(exact, VectorMath.Dot(a, b), 3);
    }

    [Fact]
    public void Lengths_must_match_and_zero_vectors_have_no_direction()
    {
        Assert.Throws<ArgumentException>(() => VectorMath.Dot(new float[4], new float[5]));
        Assert.Throws<ArgumentException>(() => VectorMath.Normalized(new float[16]));
        Assert.Throws<ArgumentException>(() => VectorMath.NormalizeInto(new float[] { 1, 2 }, new float[3]));
        var unit = VectorMath.Normalized(new float[] { 3, 0, 4 });
        Assert.Equal(new[] { 0.6f, 0f, 0.8f }, unit);
    }
}
