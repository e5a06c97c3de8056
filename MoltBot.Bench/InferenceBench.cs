using System.Diagnostics;
using System.Runtime.InteropServices;
using MoltBot.Inference.Engines;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Bench;

/// <summary>
/// Model-level benchmarks on random weights of the default sizes: INT8 student vs FP32 teacher (4× the parameters)
/// decode tokens/s at batch 1 and 8 through the KV cache, NLU throughput (batched) and single-utterance p50,
/// model folder load time, and process memory before/after 10,000 NLU requests.
/// Usage: dotnet run -c Release --project MoltBot.Bench -- inference [threads]
/// </summary>
public static class InferenceBench
{
    public static void Run(string[] args)
    {
        int threads = args.Length > 0 && int.TryParse(args[0], out int t) ? t : 2;
        torch.set_num_threads(threads);
        var choice = Int8KernelSelector.Select("auto");
        Console.WriteLine($"threads={threads} int8 kernel={choice.Kernel.Name} ({choice.Reason})");
        string root = Directory.CreateTempSubdirectory("moltbot-bench").FullName;
        try
        {
            var teacherCfg = Lm(hidden: 512, layers: 6, ff: 1536);
            var studentCfg = Lm(hidden: 256, layers: 4, ff: 768);
            string teacherDir = Write(root, "teacher-lm", teacherCfg, int8: false);
            string studentDir = Write(root, "student-lm", studentCfg, int8: true);
            var nluCfg = new NluEncoderConfig
            {
                VocabSize = 4096, HiddenSize = 128, IntermediateSize = 384, NumHiddenLayers = 2, NumAttentionHeads = 4,
                MaxPositionEmbeddings = 64, EmbeddingSize = 128, PadTokenId = 0,
                Intents = MoltBot.Contracts.Inference.Intents.All,
                BioTags = NluEncoderConfig.BioTagsFor(MoltBot.Contracts.Inference.EntityTypes.All),
            };
            string nluDir = Path.Combine(root, "student-nlu");
            WriteTokenizer(nluDir);
            using (var m = new NluEncoder(nluCfg)) ModelFolder.SaveNlu(nluDir, m, null, int8: true);

            var sw = Stopwatch.StartNew();
            using var teacher = ModelFolder.LoadDecoder(teacherDir, choice.Kernel);
            double teacherLoad = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            using var student = ModelFolder.LoadDecoder(studentDir, choice.Kernel);
            double studentLoad = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            using var nlu = ModelFolder.LoadNlu(nluDir, choice.Kernel);
            double nluLoad = sw.Elapsed.TotalMilliseconds;
            long tp = ModelFolder.ParameterCount(teacher.Model, teacher.Model.LinearLayers()), sp = ModelFolder.ParameterCount(student.Model, student.Model.LinearLayers());
            Console.WriteLine($"load: teacher-lm {teacherLoad:F0} ms ({tp / 1e6:F1}M params, fp32), student-lm {studentLoad:F0} ms ({sp / 1e6:F1}M, int8), student-nlu {nluLoad:F0} ms");

            CompareDecode("random weights, default sizes", teacher.Model, student.Model);
            // The bundled models (what users get), when the repository's models/ folder is there.
            string bundled = Path.Combine(BenchEnvironment.RepoRoot(), "models");
            if (File.Exists(Path.Combine(bundled, "teacher-lm", "config.json")) && File.Exists(Path.Combine(bundled, "student-lm", "config.json")))
            {
                using var bt = ModelFolder.LoadDecoder(Path.Combine(bundled, "teacher-lm"), choice.Kernel);
                using var bs = ModelFolder.LoadDecoder(Path.Combine(bundled, "student-lm"), choice.Kernel);
                long btp = ModelFolder.ParameterCount(bt.Model, bt.Model.LinearLayers()), bsp = ModelFolder.ParameterCount(bs.Model, bs.Model.LinearLayers());
                CompareDecode($"bundled models/teacher-lm {btp / 1e6:F2}M fp32 vs student-lm {bsp / 1e6:F2}M int8", bt.Model, bs.Model);
            }

            string[] utterances = ["hello", "what is the weather in Paris tomorrow", "remind me to call mom at 5pm", "thanks a lot", "what time is it", "cancel my reminder"];
            var batch64 = Enumerable.Range(0, 64).Select(i => utterances[i % utterances.Length]).ToList();
            // Eager modules vs the compiled graph, interleaved (3 rounds) so both see the same machine load.
            for (int round = 0; round < 3; round++)
            {
                foreach (bool graph in new[] { false, true })
                {
                    nlu.Model.UseCompiledGraph = graph;
                    for (int i = 0; i < 20; i++) NluEngine.Run(nlu, [utterances[i % utterances.Length]]);
                    var lat = new List<double>();
                    for (int i = 0; i < 300; i++)
                    {
                        var s = Stopwatch.StartNew();
                        NluEngine.Run(nlu, [utterances[i % utterances.Length]]);
                        lat.Add(s.Elapsed.TotalMilliseconds);
                    }
                    lat.Sort();
                    sw.Restart();
                    int done = 0;
                    while (sw.Elapsed.TotalSeconds < 2) { NluEngine.Run(nlu, batch64); done += 64; }
                    Console.WriteLine($"nlu student int8 ({(graph ? "compiled graph" : "eager modules")}): single p50 {lat[lat.Count / 2]:F2} ms, p99 {lat[(int)(lat.Count * 0.99)]:F2} ms; batched(64) {done / sw.Elapsed.TotalSeconds:F0} utterances/s");
                }
            }
            nlu.Model.UseCompiledGraph = true;
            // Where a batch's time goes: the tokenizer alone, then the rest (tensor building, forward, decoding).
            sw.Restart();
            int tokenized = 0;
            while (sw.Elapsed.TotalSeconds < 1) { foreach (var u in batch64) nlu.Tokenizer.EncodeWithOffsets(u); tokenized += 64; }
            Console.WriteLine($"  of which tokenizer alone: {tokenized / sw.Elapsed.TotalSeconds:F0} utterances/s");
            using (var mode = torch.inference_mode())
            {
                var enc = batch64.Select(u => nlu.Tokenizer.Encode(u)).ToList();
                int maxLen = enc.Max(e => e.Count);
                var ids = new long[64, maxLen];
                var mask = new long[64, maxLen];
                for (int b = 0; b < 64; b++) for (int t2 = 0; t2 < enc[b].Count; t2++) { ids[b, t2] = enc[b][t2]; mask[b, t2] = 1; }
                using var idsT = torch.tensor(ids);
                using var maskT = torch.tensor(mask);
                sw.Restart();
                int forwards = 0;
                while (sw.Elapsed.TotalSeconds < 1) { using var o = nlu.Model.Predict(idsT, maskT); forwards++; }
                Console.WriteLine($"  of which the forward pass alone ({maxLen} tokens padded): {forwards * 64 / sw.Elapsed.TotalSeconds:F0} utterances/s");
            }

            GC.Collect();
            long before = Environment.WorkingSet;
            for (int i = 0; i < 10_000 / 64; i++) NluEngine.Run(nlu, batch64);
            for (int i = 0; i < 200; i++) NluEngine.Run(nlu, [utterances[i % utterances.Length]]);
            GC.Collect();
            long after = Environment.WorkingSet;
            Console.WriteLine($"memory: working set {before / 1048576.0:F0} MB before, {after / 1048576.0:F0} MB after 10,200 NLU requests");
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    private static DecoderConfig Lm(int hidden, int layers, int ff) => new()
    {
        VocabSize = 4096, HiddenSize = hidden, IntermediateSize = ff, NumHiddenLayers = layers, NumAttentionHeads = hidden / 64,
        NumKeyValueHeads = hidden / 128, MaxPositionEmbeddings = 512, TieWordEmbeddings = true, ChatFormat = "chatml", EosTokenId = 1,
    };

    private static string Write(string root, string name, DecoderConfig cfg, bool int8)
    {
        string dir = Path.Combine(root, name);
        WriteTokenizer(dir);
        using var m = new DecoderLM(cfg);
        ModelFolder.SaveDecoder(dir, m, null, int8);
        return dir;
    }

    /// <summary>A byte-level vocabulary (256 symbols, no merges) is enough for the load path.</summary>
    private static void WriteTokenizer(string dir)
    {
        Directory.CreateDirectory(dir);
        var map = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++)
            map[b] = b is >= '!' and <= '~' or >= '¡' and <= '¬' or >= '®' and <= 'ÿ' ? (char)b : (char)(256 + n++);
        var vocab = new System.Text.Json.Nodes.JsonObject();
        for (int b = 0; b < 256; b++) vocab[map[b].ToString()] = b;
        File.WriteAllText(Path.Combine(dir, "vocab.json"), vocab.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "merges.txt"), "#version: 0.2\n");
    }

    /// <summary>
    /// Teacher vs student decode, eager modules vs compiled graph, at batch 1 and 8: 3 interleaved rounds, each the
    /// median step time over 64 steps; reported as the median of the rounds (tokens/s = batch / step time).
    /// </summary>
    private static void CompareDecode(string title, DecoderLM teacher, DecoderLM student)
    {
        Console.WriteLine($"decode ({title}):");
        foreach (int batch in new[] { 1, 8 })
        {
            var runs = new Dictionary<(bool Graph, bool Student), List<double>>();
            for (int round = 0; round < 3; round++)
            {
                foreach (bool graph in new[] { false, true })
                {
                    foreach (bool isStudent in new[] { false, true })
                    {
                        var m = isStudent ? student : teacher;
                        m.UseCompiledGraph = graph;
                        if (!runs.TryGetValue((graph, isStudent), out var list)) runs[(graph, isStudent)] = list = [];
                        list.Add(Decode(m, batch));
                    }
                }
            }
            foreach (bool graph in new[] { false, true })
            {
                double t = Median(runs[(graph, false)]), s = Median(runs[(graph, true)]);
                Console.WriteLine($"  batch {batch}, {(graph ? "compiled graph" : "eager modules ")}: step teacher fp32 {t:F0} µs, student int8 {s:F0} µs; {batch * 1e6 / t:F0} vs {batch * 1e6 / s:F0} tok/s, student {t / s:F2}x faster");
            }
        }
        teacher.UseCompiledGraph = student.UseCompiledGraph = true;
    }

    private static double Median(List<double> xs)
    {
        var sorted = xs.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    /// <summary>Median step time (µs) for <paramref name="batch"/> sequences decoding 64 tokens after a 16-token prompt.</summary>
    private static double Decode(DecoderLM model, int batch)
    {
        using var cache = new KvCache(model.Config, batch, 128);
        using var mode = torch.inference_mode();
        var slots = Enumerable.Range(0, batch).ToList();
        void Prefill()
        {
            using var s = NewDisposeScope();
            for (int b = 0; b < batch; b++) model.ForwardCached(torch.randint(0, model.Config.VocabSize, [1, 16]), cache, [b], [0], lastOnly: true);
        }
        int steps = 64;
        Prefill();
        for (int i = 0; i < 4; i++) Step(model, cache, slots, 16 + i); // warm-up
        Prefill();
        var times = new List<double>(steps);
        for (int i = 0; i < steps; i++)
        {
            var sw = Stopwatch.StartNew();
            Step(model, cache, slots, 16 + i);
            times.Add(sw.Elapsed.TotalMicroseconds);
        }
        return Median(times);
    }

    private static void Step(DecoderLM model, KvCache cache, List<int> slots, int pos)
    {
        using var s = NewDisposeScope();
        var logits = model.ForwardCached(torch.randint(0, model.Config.VocabSize, [slots.Count, 1]), cache, slots, slots.Select(_ => pos).ToList(), lastOnly: true);
        // Reading the logits back is part of every real decode step.
        _ = MemoryMarshal.Cast<byte, float>(logits.contiguous().bytes)[0];
    }
}
