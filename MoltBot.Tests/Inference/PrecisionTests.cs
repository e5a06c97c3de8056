using MoltBot.Contracts.Inference;
using MoltBot.Inference.Engines;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MoltBot.Tests.Inference;

public class PrecisionTests(ITestOutputHelper output)
{
    private static readonly string[] Utterances = ["hello", "what is the weather in Paris tomorrow", "bye", "thanks a lot", "tell me a joke", "你好"];

    [Fact]
    public void Int8_layers_keep_no_fp32_copy_of_their_weight_but_the_parameter_count_is_unchanged()
    {
        string dir = TinyModels.TempDir("int8-release");
        var config = TinyModels.Decoder(hidden: 64, ff: 128);
        TinyModels.WriteDecoderFolder(dir, config, seed: 3, int8: true);
        using var fp32 = TinyModels.RandomDecoder(config, seed: 3);
        long expected = fp32.parameters().Sum(p => p.numel());
        using var student = ModelFolder.LoadDecoder(dir, Int8KernelSelector.Select("auto").Kernel);
        var quantized = student.Model.LinearLayers().Where(l => ModelFolder.IsQuantizable(l.Name)).ToList();
        Assert.NotEmpty(quantized);
        foreach (var (name, layer) in quantized)
        {
            Assert.NotNull(layer.Int8);
            Assert.False(layer.HasFloatWeight, name);
            Assert.Equal(0, layer.Weight.numel());
        }
        // FP32 bytes still held: embeddings and norms only (the tied head reuses the embedding).
        long floatBytes = student.Model.parameters().Sum(p => p.numel() * 4);
        long projectionBytes = quantized.Sum(l => (long)l.Layer.InFeatures * l.Layer.OutFeatures * 4);
        output.WriteLine($"fp32 bytes held {floatBytes}, released {projectionBytes}");
        Assert.Equal(expected * 4 - projectionBytes, floatBytes);
        Assert.Equal(expected, ModelFolder.ParameterCount(student.Model, student.Model.LinearLayers()));
        // It still runs, and saving it again is refused with a reason rather than writing empty tensors.
        using (var scope = NewDisposeScope())
        using (torch.inference_mode())
            Assert.Equal([1, 5, config.VocabSize], student.Model.forward(torch.tensor(new long[] { 1, 2, 3, 4, 5 }).unsqueeze(0)).shape);
        var ex = Assert.Throws<InvalidOperationException>(() => ModelFolder.SaveDecoder(Path.Combine(dir, "copy"), student.Model, null));
        Assert.Contains("FP32 weight was released", ex.Message);
        Directory.Delete(dir, true);
    }

    /// <summary>
    /// A teacher NLU whose intent head has clear margins (as a trained one does) gives the same intents in BF16 as in
    /// FP32, through the engine, and the catalog reports the teacher as bf16.
    /// </summary>
    [Fact]
    public async Task A_bf16_teacher_gives_the_same_intents_as_fp32_and_the_catalog_reports_bf16()
    {
        string models = TinyModels.TempDir("bf16");
        InferenceHost.WriteModels(models);
        string teacherDir = Path.Combine(models, "teacher-nlu");
        using (var m = TinyModels.RandomNlu(TinyModels.Nlu(), seed: 21))
        {
            using (torch.no_grad())
                foreach (var (name, p) in m.named_parameters())
                    if (name.StartsWith("intent_head.", StringComparison.Ordinal)) p.mul_(25);
            ModelFolder.SaveNlu(teacherDir, m, null);
        }
        var kernel = Int8KernelSelector.Select("auto").Kernel;
        List<NluResult> reference;
        using (var fp32 = ModelFolder.LoadNlu(teacherDir, kernel)) reference = NluEngine.Run(fp32, Utterances);

        await using var host = await InferenceHost.StartAsync(new() { ["Inference:TeacherPrecision"] = "bf16", ["Inference:NluPolicy"] = "teacher" }, models);
        var catalog = host.Services.GetRequiredService<IModelCatalog>();
        Assert.Equal("bf16", catalog.Models.Single(m => m.Id == "teacher-nlu").Precision);
        Assert.Equal("bf16", catalog.Models.Single(m => m.Id == "teacher-lm").Precision);
        Assert.Equal("int8", catalog.Models.Single(m => m.Id == "student-nlu").Precision);
        using (var fp32 = ModelFolder.LoadNlu(teacherDir, kernel))
            Assert.Equal(ModelFolder.ParameterCount(fp32.Model, fp32.Model.LinearLayers()), catalog.Models.Single(m => m.Id == "teacher-nlu").Parameters);
        var nlu = host.Services.GetRequiredService<INluEngine>();
        for (int i = 0; i < Utterances.Length; i++)
        {
            var r = await nlu.ParseAsync(Utterances[i], CancellationToken.None);
            output.WriteLine($"{Utterances[i]}: fp32 {reference[i].Intent} {reference[i].Confidence:F4}, bf16 {r.Intent} {r.Confidence:F4}");
            Assert.Equal("teacher-nlu", r.Model);
            Assert.Equal(reference[i].Intent, r.Intent);
            Assert.Equal(reference[i].Confidence, r.Confidence, 0.05);
        }
        // The bf16 teacher LM generates too.
        var gen = host.Services.GetRequiredService<ITextGenerator>();
        int n = 0;
        await foreach (var t in gen.GenerateAsync(new GenerationRequest([new("user", "hi")]) { Model = "teacher", Sampling = new SamplingOptions { MaxNewTokens = 3 } }, CancellationToken.None))
            n++;
        Assert.InRange(n, 1, 3);
    }

    [Fact]
    public async Task TeacherPrecision_accepts_only_fp32_or_bf16()
    {
        var ex = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            InferenceHost.StartAsync(new() { ["Inference:TeacherPrecision"] = "fp16" }));
        Assert.Contains("Inference:TeacherPrecision must be fp32 or bf16.", string.Join("\n", ex.Failures));
    }
}
