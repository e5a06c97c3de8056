using MoltBot.Tests.Support;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Tests.Inference;

/// <summary>
/// TorchSharp turns a long/double argument of a TorchScript call into a temporary <c>Scalar</c> and passes only its
/// native handle; nothing keeps the managed object alive during the call, so a garbage collection plus its finalizer
/// can free the scalar while libtorch still reads it ("Expected false to be true … Scalar::toLong", seen once in CI).
/// The compiled NLU and decoder forwards must keep every scalar argument alive themselves. These tests call them
/// while another thread collects garbage and runs finalizers without pause, and require the same answer every time.
/// They run alone (<see cref="RunsAloneCollection"/> has no parallel neighbours) so that the forced
/// collections do not pause other tests.
/// </summary>
[Collection(nameof(RunsAloneCollection))]
public class CompiledForwardScalarTests
{
    private const int Calls = 1000;

    private static async Task WhileCollectingGarbage(Action body)
    {
        using var stop = new CancellationTokenSource();
        var collector = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                // Gen0 is enough (the temporary scalars are young) and keeps each pause short.
                GC.Collect(0, GCCollectionMode.Forced, blocking: true);
                GC.WaitForPendingFinalizers();
            }
        });
        try { await Task.Run(body); }
        finally { stop.Cancel(); await collector; }
    }

    [Fact]
    public async Task The_compiled_nlu_forward_gives_the_same_answer_while_finalizers_run()
    {
        var config = TinyModels.Nlu();
        string dir = TinyModels.WriteNluFolder(TinyModels.TempDir("scalar-nlu"), config, seed: 21, int8: true);
        using var nlu = ModelFolder.LoadNlu(dir, Int8KernelSelector.Select("auto").Kernel);
        Assert.True(nlu.Model.RunsCompiledGraph);
        await WhileCollectingGarbage(() =>
        {
            using var mode = torch.inference_mode();
            using var ids = torch.tensor(new long[,] { { 5, 6, 7, 8 } });
            using var mask = torch.tensor(new long[,] { { 1, 1, 1, 1 } });
            float[] expected;
            using (var first = nlu.Model.Predict(ids, mask)) expected = first.IntentProbs.data<float>().ToArray();
            for (int i = 0; i < Calls; i++)
            {
                using var output = nlu.Model.Predict(ids, mask);
                Assert.Equal(expected, output.IntentProbs.data<float>().ToArray());
            }
        });
    }

    [Fact]
    public async Task The_compiled_decoder_step_gives_the_same_answer_while_finalizers_run()
    {
        var config = TinyModels.Decoder();
        string dir = TinyModels.WriteDecoderFolder(TinyModels.TempDir("scalar-lm"), config, seed: 22, int8: true);
        using var lm = ModelFolder.LoadDecoder(dir, Int8KernelSelector.Select("auto").Kernel);
        Assert.True(lm.Model.RunsCompiledGraph);
        await WhileCollectingGarbage(() =>
        {
            using var mode = torch.inference_mode();
            using var cache = new KvCache(config, slots: 1, maxLength: 16);
            using var prompt = torch.tensor(new long[,] { { 5, 6, 7 } });
            float[] expected;
            using (var first = lm.Model.ForwardCached(prompt, cache, [0], [0], lastOnly: true)) expected = first.data<float>().ToArray();
            for (int i = 0; i < Calls; i++)
            {
                // The same prefill into the same slot: the cache rows are overwritten with the same keys and values.
                using var logits = lm.Model.ForwardCached(prompt, cache, [0], [0], lastOnly: true);
                Assert.Equal(expected, logits.data<float>().ToArray());
            }
        });
    }
}
