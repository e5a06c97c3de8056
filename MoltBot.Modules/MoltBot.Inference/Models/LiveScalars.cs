using TorchSharp;

namespace MoltBot.Inference.Models;

/// <summary>
/// TorchSharp <see cref="Scalar"/>s that stay alive while a native call reads them. An implicit conversion
/// (<c>t / 2</c>, <c>t + 1e-5</c>, <c>torch.arange(n)</c>, and inside TorchSharp <c>a + b</c> = <c>add(b, alpha: 1)</c> and
/// <c>square()</c> = <c>pow(2)</c>) creates a Scalar that
/// nothing references once its handle has been read, so a GC plus its finalizer can free it while the native call still
/// uses it ("Unknown scalar type"). The inference paths use these rooted constants, or a <c>using Scalar</c> local, instead;
/// <c>ScalarLifetimeTests</c> checks the compiled code for implicit conversions.
/// </summary>
internal static class LiveScalars
{
    // Static readonly: rooted for the process lifetime, never finalized. A c10::Scalar is immutable, so threads share them.
    public static readonly Scalar Zero = 0L.ToScalar();
    public static readonly Scalar One = 1L.ToScalar();
    public static readonly Scalar Two = 2L.ToScalar();

    /// <summary><c>a + b</c> without TorchSharp's implicit alpha scalar.</summary>
    public static torch.Tensor Plus(this torch.Tensor a, torch.Tensor b) => a.add(b, One);

    /// <summary><c>t * k</c> with a Scalar that lives through the call.</summary>
    public static torch.Tensor Times(this torch.Tensor t, double k)
    {
        using Scalar factor = k.ToScalar();
        return t.mul(factor);
    }

    /// <summary><c>t / k</c> with a Scalar that lives through the call.</summary>
    public static torch.Tensor DividedBy(this torch.Tensor t, double k)
    {
        using Scalar divisor = k.ToScalar();
        return t.div(divisor);
    }

    /// <summary><c>t != value</c> with a Scalar that lives through the call.</summary>
    public static torch.Tensor NotEqual(this torch.Tensor t, long value)
    {
        using Scalar other = value.ToScalar();
        return t.ne(other);
    }

    /// <summary><c>torch.arange(n)</c> (int64) without an implicit scalar for n.</summary>
    public static torch.Tensor Arange(long n, torch.Device? device = null, torch.ScalarType? dtype = null)
    {
        using Scalar stop = n.ToScalar();
        return torch.arange(Zero, stop, One, dtype, device);
    }
}
