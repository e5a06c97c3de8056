using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using MoltBot.Inference.Engines;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Bench;

/// <summary>
/// Issue 10's inference micro-benchmarks on the bundled models (models/ of the repository; 2 torch threads):
/// tokenizer, NLU forward (tokenize → forward → decode intents/entities/embedding) teacher FP32 vs student INT8, and one
/// KV-cached decode step (16 cached tokens) teacher FP32 vs student INT8 at batch 1 and 8; each with the compiled
/// whole-model graph and with the eager modules (CompiledGraph = false: the path before the graph).
/// Run: dotnet run -c Release --project MoltBot.Bench -- --filter '*InferenceBenchmarks*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class InferenceBenchmarks
{
    private const string Utterance = "what is the weather in Paris tomorrow";
    private const int Prompt = 16;
    private LoadedNlu _teacherNlu = null!, _studentNlu = null!;
    private LoadedDecoder _teacherLm = null!, _studentLm = null!;
    private readonly Dictionary<(LoadedDecoder, int), KvCache> _caches = [];
    private IDisposable? _mode;

    /// <summary>True: whole-model TorchScript graph (the default at inference); false: the eager modules (before).</summary>
    [Params(true, false)]
    public bool CompiledGraph { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(2);
        string models = Path.Combine(BenchEnvironment.RepoRoot(), "models");
        var kernel = Int8KernelSelector.Select("auto").Kernel;
        _teacherNlu = ModelFolder.LoadNlu(Path.Combine(models, "teacher-nlu"), kernel);
        _studentNlu = ModelFolder.LoadNlu(Path.Combine(models, "student-nlu"), kernel);
        _teacherLm = ModelFolder.LoadDecoder(Path.Combine(models, "teacher-lm"), kernel);
        _studentLm = ModelFolder.LoadDecoder(Path.Combine(models, "student-lm"), kernel);
        foreach (var m in new[] { _teacherLm.Model, _studentLm.Model }) m.UseCompiledGraph = CompiledGraph;
        foreach (var m in new[] { _teacherNlu.Model, _studentNlu.Model }) m.UseCompiledGraph = CompiledGraph;
        _mode = torch.inference_mode();
        foreach (var lm in new[] { _teacherLm, _studentLm })
        {
            foreach (int batch in new[] { 1, 8 })
            {
                var cache = new KvCache(lm.Config, batch, Prompt + 8);
                using var scope = NewDisposeScope();
                for (int b = 0; b < batch; b++)
                    lm.Model.ForwardCached(torch.randint(0, lm.Config.VocabSize, [1, Prompt]), cache, [b], [0], lastOnly: true);
                _caches[(lm, batch)] = cache;
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var c in _caches.Values) c.Dispose();
        _mode?.Dispose();
        _teacherNlu.Dispose();
        _studentNlu.Dispose();
        _teacherLm.Dispose();
        _studentLm.Dispose();
    }

    [Benchmark]
    public int Tokenize() => _studentNlu.Tokenizer.EncodeWithOffsets(Utterance).Count;

    [Benchmark]
    public string NluTeacherFp32() => NluEngine.Run(_teacherNlu, [Utterance])[0].Intent;

    [Benchmark]
    public string NluStudentInt8() => NluEngine.Run(_studentNlu, [Utterance])[0].Intent;

    [Benchmark]
    public float DecodeStepTeacherFp32Batch1() => Step(_teacherLm, 1);

    [Benchmark]
    public float DecodeStepStudentInt8Batch1() => Step(_studentLm, 1);

    [Benchmark]
    public float DecodeStepTeacherFp32Batch8() => Step(_teacherLm, 8);

    [Benchmark]
    public float DecodeStepStudentInt8Batch8() => Step(_studentLm, 8);

    /// <summary>One token per sequence after the cached prompt (rewrites position 16, so every call does the same work).</summary>
    private float Step(LoadedDecoder lm, int batch)
    {
        using var mode = torch.inference_mode(); // grad mode is per thread: do not rely on the setup thread's
        using var scope = NewDisposeScope();
        var slots = Enumerable.Range(0, batch).ToList();
        var logits = lm.Model.ForwardCached(torch.ones([batch, 1], ScalarType.Int64), _caches[(lm, batch)], slots, slots.Select(_ => Prompt).ToList(), lastOnly: true);
        return MemoryMarshal.Cast<byte, float>(logits.contiguous().bytes)[0]; // reading the logits is part of a real step
    }
}
