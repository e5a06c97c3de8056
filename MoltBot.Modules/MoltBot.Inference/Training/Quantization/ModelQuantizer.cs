using System.Text.Json.Nodes;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;

namespace MoltBot.Inference.Training.Quantization;

public sealed record QuantizationResult(string Kind, string OutDir, long BytesBefore, long BytesAfter, int QuantizedLayers);

/// <summary>
/// Post-training INT8 quantization of a model folder: every transformer projection (and an untied LM head) becomes
/// symmetric per-output-channel int8 + an F32 scale per row, in the layout the INT8 loader reads
/// (quantization_config.quant_method = moltbot_int8). Activations stay dynamic (quantized per call by the kernel),
/// so no calibration pass is needed.
/// </summary>
public static class ModelQuantizer
{
    public static QuantizationResult Quantize(string inDir, string outDir)
    {
        string configFile = Path.Combine(inDir, "config.json");
        if (!File.Exists(configFile)) throw new ModelFormatException(configFile, null, "no config.json: not a model folder");
        if (JsonNode.Parse(File.ReadAllText(configFile))?["quantization_config"] is not null)
            throw new ModelFormatException(configFile, null, "the model is already quantized");
        if (NluEnsembleFolder.IsEnsemble(inDir))
            throw new ModelFormatException(configFile, null,
                "an NLU ensemble (moltbot_nlu_ensemble) is an FP32 teacher and is not quantized: distill a student from it (distill nlu --teacher DIR) and quantize the student");
        if (ModelFolder.IsNgram(inDir))
            throw new ModelFormatException(configFile, null,
                "an n-gram NLU model (moltbot_nlu_ngram) is FP32 only: its table is read a few rows per utterance, so INT8 would save disk, not time; it is not quantized");
        long before = WeightBytes(inDir);
        string kind = ModelFolder.KindOf(inDir);
        int layers;
        // The FP32 weights are copied into memory before the (possibly same) folder is rewritten.
        if (kind == "nlu")
        {
            using var m = ModelFolder.LoadNlu(inDir, new WeightOnlyKernel());
            layers = m.Model.LinearLayers().Count(l => ModelFolder.IsQuantizable(l.Name));
            ModelFolder.SaveNlu(outDir, (NluEncoder)m.Model, tokenizerFrom: inDir, int8: true); // ensembles were refused above
        }
        else
        {
            using var m = ModelFolder.LoadDecoder(inDir, new WeightOnlyKernel());
            layers = m.Model.LinearLayers().Count(l => ModelFolder.IsQuantizable(l.Name));
            ModelFolder.SaveDecoder(outDir, m.Model, tokenizerFrom: inDir, int8: true);
        }
        return new QuantizationResult(kind, outDir, before, WeightBytes(outDir), layers);
    }

    public static long WeightBytes(string dir) =>
        Directory.GetFiles(dir, "*.safetensors").Sum(f => new FileInfo(f).Length);
}
