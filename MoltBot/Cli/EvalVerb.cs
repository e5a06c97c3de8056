using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using MoltBot.Hosting;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using MoltBot.Inference.Training.Corpus;
using MoltBot.Inference.Training.Lm;
using MoltBot.Inference.Training.Metrics;
using MoltBot.Inference.Training.Nlu;
using Spectre.Console;
using CorpusDialog = MoltBot.Inference.Training.Corpus.Dialog;

namespace MoltBot.Cli;

/// <summary>`eval nlu|lm`: held-out scores of the bundled (or any) models; `--json` prints one JSON object on stdout.</summary>
public static class EvalVerb
{
    public static Command Create()
    {
        var eval = new Command("eval", "Evaluate NLU or LM models on labelled data.");
        eval.Subcommands.Add(NluCommand());
        eval.Subcommands.Add(LmCommand());
        return eval;
    }

    private static readonly Option<string> ModelsDir = new("--models") { Description = "Folder holding teacher-*/student-* model folders.", DefaultValueFactory = _ => "models" };

    private static Command NluCommand()
    {
        var data = new Option<string>("--data") { Description = "Labelled JSONL ({\"text\",\"lang\",\"intent\",\"entities\"}).", Required = true };
        var model = new Option<string>("--model") { Description = "'teacher', 'student' or a model folder path.", DefaultValueFactory = _ => "student" };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout." };
        var onMalformed = new Option<string>("--on-malformed") { Description = "'fail' (default) or 'skip' malformed lines (reported on stderr with file and line).", DefaultValueFactory = _ => "fail" };
        var errors = new Option<string?>("--errors") { Description = "Write every wrong intent or entity set to this JSONL file (text, gold, predicted)." };
        var threads = new Option<int>("--threads") { Description = "Torch intra-op threads while timing (1..256; default 2, as Inference:Threads=0 serves on this 2-core box).", DefaultValueFactory = _ => 2 };
        threads.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 256) r.AddError("--threads must be between 1 and 256."); });
        var cmd = new Command("nlu", "Intent accuracy, macro-F1, per-intent precision/recall, confusion matrix, entity F1, latency p50/p99.") { data, model, json, onMalformed, errors, threads };
        cmd.Options.Add(ModelsDir);
        cmd.SetAction((parse, ct) => StartupErrors.GuardAsync(() => TrainingConsole.GuardAsync(() =>
        {
            var set = NluJsonlReader.Read(parse.GetValue(data)!, TrainingConsole.ParsePolicy(parse.GetValue(onMalformed)));
            foreach (var s in set.Skipped) TrainingConsole.ReportSkipped(s);
            string which = parse.GetValue(model)!;
            string folder = which is "teacher" or "student" ? Path.Combine(parse.GetValue(ModelsDir)!, $"{which}-nlu") : which;
            using var nlu = ModelFolder.LoadNlu(folder, Int8KernelSelector.Select("auto").Kernel);
            string? errorsFile = parse.GetValue(errors);
            using var errorWriter = errorsFile is null ? null : new StreamWriter(errorsFile);
            var report = NluEvaluator.Evaluate(nlu, set.Examples, which, parse.GetValue(threads), onPrediction: errorWriter is null ? null : (ex, p) => WriteError(errorWriter, ex, p));
            if (parse.GetValue(json)) Console.Out.WriteLine(report.ToJson().ToJsonString());
            else Render(report, folder);
            return Task.FromResult(0);
        })));
        return cmd;
    }

    /// <summary>One JSONL line per example whose intent or entity set (type, start, end) is wrong.</summary>
    private static void WriteError(StreamWriter w, NluExample ex, NluPrediction p)
    {
        static JsonArray Spans(IEnumerable<MoltBot.Contracts.Inference.EntitySpan> spans) =>
            new(spans.Select(e => (JsonNode)new JsonObject { ["type"] = e.Type, ["value"] = e.Value, ["start"] = e.Start, ["end"] = e.End }).ToArray());
        bool entitiesRight = p.GoldEntities.Select(e => (e.Type, e.Start, e.End)).ToHashSet()
            .SetEquals(p.PredictedEntities.Select(e => (e.Type, e.Start, e.End)));
        if (p.GoldIntent == p.PredictedIntent && entitiesRight) return;
        w.WriteLine(new JsonObject
        {
            ["text"] = ex.Text, ["lang"] = ex.Lang, ["intent"] = p.GoldIntent, ["predicted_intent"] = p.PredictedIntent,
            ["entities"] = Spans(p.GoldEntities), ["predicted_entities"] = Spans(p.PredictedEntities),
        }.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }

    private static void Render(NluReport r, string folder)
    {
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(r.Model)}[/] ({Markup.Escape(folder)}), n = {r.N}");
        AnsiConsole.MarkupLine($"accuracy {r.Accuracy:P2}   macro-F1 {r.MacroF1:F4}   entity P/R/F1 {r.EntityPrecision:F4}/{r.EntityRecall:F4}/{r.EntityF1:F4}   latency p50 {r.LatencyP50Ms:F2} ms, p99 {r.LatencyP99Ms:F2} ms");
        var t = new Table().AddColumns("intent", "precision", "recall", "F1", "support");
        foreach (var (intent, s) in r.PerIntent) t.AddRow(intent, $"{s.Precision:F3}", $"{s.Recall:F3}", $"{s.F1:F3}", s.Support.ToString());
        AnsiConsole.Write(t);
        var labels = r.Confusion.Keys.ToList();
        AnsiConsole.MarkupLine("confusion matrix (rows gold, columns predicted): " + Markup.Escape(string.Join(", ", labels.Select((l, i) => $"{i}={l}"))));
        var c = new Table().AddColumn("#");
        for (int i = 0; i < labels.Count; i++) c.AddColumn(i.ToString());
        for (int i = 0; i < labels.Count; i++)
            c.AddRow([i.ToString(), .. labels.Select(p => r.Confusion[labels[i]][p] is var n && n > 0 ? n.ToString() : ".")]);
        AnsiConsole.Write(c);
    }

    private static Command LmCommand()
    {
        var data = new Option<string>("--data") { Description = "Dialog JSONL (held-out conversations).", Required = true };
        var teacher = new Option<string?>("--teacher") { Description = "Teacher folder (default <models>/teacher-lm)." };
        var student = new Option<string?>("--student") { Description = "Student folder (default <models>/student-lm; 'none' to skip)." };
        var samples = new Option<int>("--samples") { Description = "Also print this many greedy student replies to held-out turns.", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout." };
        var cmd = new Command("lm", "Perplexity of teacher and student, student/teacher top-1 agreement, decoding tokens/s.") { data, teacher, student, samples, json };
        cmd.Options.Add(ModelsDir);
        cmd.SetAction((parse, ct) => StartupErrors.GuardAsync(() => TrainingConsole.GuardAsync(() =>
        {
            var (dialogs, skipped) = DialogJsonl.Read(parse.GetValue(data)!);
            string models = parse.GetValue(ModelsDir)!;
            using var t = ModelFolder.LoadDecoder(parse.GetValue(teacher) ?? Path.Combine(models, "teacher-lm"), Int8KernelSelector.Select("auto").Kernel);
            string studentDir = parse.GetValue(student) ?? Path.Combine(models, "student-lm");
            using var s = studentDir == "none" ? null : ModelFolder.LoadDecoder(studentDir, Int8KernelSelector.Select("auto").Kernel);
            var report = LmEvaluator.Evaluate(t, s, dialogs);
            int n = parse.GetValue(samples);
            var picked = n > 0 && s is not null ? LmEvaluator.Samples(s, Balanced(dialogs, n)) : [];
            if (parse.GetValue(json))
            {
                var o = new JsonObject
                {
                    ["teacher"] = Scores(report.Teacher),
                    ["student"] = report.Student is null ? null : Scores(report.Student),
                    ["top1_agreement"] = report.Top1Agreement is { } a ? Math.Round(a, 6) : null,
                    ["speedup"] = report.Student is null ? null : Math.Round(report.Student.TokensPerSecond / report.Teacher.TokensPerSecond, 3),
                    ["size_ratio"] = report.Student is null ? null : Math.Round((double)report.Teacher.BytesOnDisk / report.Student.BytesOnDisk, 3),
                    ["dialogs"] = report.Dialogs,
                    ["reply_tokens"] = report.ReplyTokens,
                    ["samples"] = new JsonArray(picked.Select(p => (JsonNode)new JsonObject
                    {
                        ["lang"] = p.Lang, ["user"] = p.Context[^1].Content, ["reference"] = p.Reference, ["reply"] = p.Reply,
                    }).ToArray()),
                };
                Console.Out.WriteLine(o.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            }
            else
            {
                var table = new Table().AddColumns("model", "perplexity", "tokens/s", "parameters", "bytes on disk");
                foreach (var m in new[] { report.Teacher, report.Student }.OfType<LmModelScores>())
                    table.AddRow(m.Model, $"{m.Perplexity:F3}", $"{m.TokensPerSecond:F1}", m.Parameters.ToString("N0"), m.BytesOnDisk.ToString("N0"));
                AnsiConsole.Write(table);
                if (report.Top1Agreement is { } a) AnsiConsole.MarkupLine($"top-1 agreement (student vs teacher, {report.ReplyTokens} reply tokens): {a:P2}");
                foreach (var p in picked)
                    AnsiConsole.MarkupLine($"[grey]{p.Lang}[/] user: {Markup.Escape(p.Context[^1].Content)}\n    reply: {Markup.Escape(p.Reply)}");
            }
            return Task.FromResult(0);
        })));
        return cmd;
    }

    private static JsonObject Scores(LmModelScores m) => new()
    {
        ["model"] = m.Model,
        ["perplexity"] = Math.Round(m.Perplexity, 4),
        ["tokens_per_s"] = Math.Round(m.TokensPerSecond, 1),
        ["parameters"] = m.Parameters,
        ["bytes_on_disk"] = m.BytesOnDisk,
    };

    /// <summary>Half English, half Chinese, spread over the file.</summary>
    public static List<CorpusDialog> Balanced(IReadOnlyList<CorpusDialog> dialogs, int n)
    {
        var result = new List<CorpusDialog>();
        foreach (var lang in new[] { "en", "zh" })
        {
            var pool = dialogs.Where(d => d.Lang == lang).ToList();
            int take = lang == "en" ? (n + 1) / 2 : n / 2;
            for (int i = 0; i < take && pool.Count > 0; i++) result.Add(pool[(int)((long)i * pool.Count / Math.Max(1, take))]);
        }
        return result;
    }
}
