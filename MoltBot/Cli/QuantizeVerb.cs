using System.CommandLine;
using MoltBot.Hosting;
using MoltBot.Inference.Training.Quantization;
using Spectre.Console;

namespace MoltBot.Cli;

/// <summary>`quantize DIR [--out DIR]`: INT8 per-channel weights + F32 scales as safetensors (dynamic activations).</summary>
public static class QuantizeVerb
{
    public static Command Create()
    {
        var dir = new Argument<string>("dir") { Description = "FP32 model folder (NLU encoder or decoder)." };
        var outDir = new Option<string?>("--out") { Description = "Where to write the INT8 folder (default: replace DIR in place)." };
        var cmd = new Command("quantize", "Quantize a model folder to INT8 (per-output-channel symmetric weights with scales).") { dir, outDir };
        cmd.SetAction((parse, ct) => StartupErrors.GuardAsync(() => TrainingConsole.GuardAsync(() =>
        {
            string input = parse.GetValue(dir)!;
            var r = ModelQuantizer.Quantize(input, parse.GetValue(outDir) ?? input);
            AnsiConsole.MarkupLine($"[green]quantized[/] {r.Kind} model: {r.QuantizedLayers} projections → INT8, weights {r.BytesBefore:N0} → {r.BytesAfter:N0} bytes ({(double)r.BytesBefore / Math.Max(1, r.BytesAfter):F2}× smaller) in {Markup.Escape(r.OutDir)}");
            return Task.FromResult(0);
        })));
        return cmd;
    }
}
