using MoltBot.Tests.Support;
using MoltBot.Inference.Engines;
using TorchSharp;

namespace MoltBot.Tests.Inference;

// Alone: a parallel test running torch between the release and the measurement faults the code back in (seen in CI runs).
[Collection(nameof(RunsAloneCollection))]
public class StartupFootprintTests
{
    /// <summary>
    /// Releasing libtorch's code pages takes them out of the resident set, and torch keeps working: the pages it
    /// runs fault back in.
    /// </summary>
    [Fact]
    public void Releasing_libtorch_code_pages_shrinks_the_resident_set_and_torch_still_computes()
    {
        using (var a = torch.arange(6, dtype: torch.float32))
        using (var sum = a.sum())
            Assert.Equal(15f, sum.item<float>());

        long before = NativeCodePages.ResidentBytes(ModelRegistry.TorchCodeLibraries);
        // Only "some": host tests in this process have released these pages already (Inference:ReleaseStartupCodePages),
        // and what is resident again depends on which torch code ran since (663 KB was seen in a CI run).
        Assert.True(before > 0, $"libtorch's code should be partly resident after a torch call ({before} bytes)");
        long advised = NativeCodePages.Release(ModelRegistry.TorchCodeLibraries);
        long after = NativeCodePages.ResidentBytes(ModelRegistry.TorchCodeLibraries);

        Assert.True(advised > 0);
        Assert.True(after < before, $"resident code {before} → {after} bytes");
        using var x = torch.ones(3, 4);
        using var y = torch.ones(4, 2);
        using var z = x.matmul(y);
        Assert.Equal([4f, 4f, 4f, 4f, 4f, 4f], z.data<float>().ToArray());
    }

    [Fact]
    public void Only_the_named_libraries_are_advised()
    {
        Assert.Equal(0, NativeCodePages.Release("no-such-library-", "*.no-such-suffix"));
        Assert.Equal(0, NativeCodePages.ResidentBytes("no-such-library-", "*.no-such-suffix"));
        // A suffix pattern matches by the end of the file name: the runtime's own libcoreclr.so is mapped in every test run.
        Assert.True(NativeCodePages.ResidentBytes("*coreclr.so") > 0);
    }
}
