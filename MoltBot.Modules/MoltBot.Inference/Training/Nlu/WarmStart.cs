using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using TorchSharp;

namespace MoltBot.Inference.Training.Nlu;

/// <summary>
/// `train nlu --init-from DIR`: starts a run from a trained model's weights instead of a random initialisation, so an
/// enlarged corpus can be learned in fewer steps than a run from scratch. Only an FP32 model with the run's exact
/// architecture, labels and tokenizer qualifies; anything else is an error that names the difference. A masked-LM
/// pre-trained folder (`pretrain nlu`) gives only its encoder weights (any labels; the heads start fresh).
/// </summary>
public static class WarmStart
{
    /// <summary>Checked before anything else runs (the tokenizer is taken from the source when none is given).</summary>
    public static void RequireModelFolder(string sourceDir)
    {
        if (!File.Exists(Path.Combine(sourceDir, "config.json")))
            throw new InvalidDataException($"--init-from: '{sourceDir}' has no config.json (expected an NLU model folder)");
    }

    public static void CopyInto(NluEncoder model, string sourceDir, string outDir)
    {
        RequireModelFolder(sourceDir);
        if (NluEnsembleFolder.IsEnsemble(sourceDir))
            throw new InvalidDataException($"--init-from: '{sourceDir}' is an NLU ensemble; warm-start from one of its member folders");
        RequireSameTokenizer(sourceDir, outDir);
        using var source = ModelFolder.LoadNlu(sourceDir, new WeightOnlyKernel());
        if (source.Precision != "fp32")
            throw new InvalidDataException($"--init-from: '{sourceDir}' holds {source.Precision} weights; warm starts need an FP32 model");
        // A `pretrain nlu` folder's heads were never trained: only its encoder is taken, the heads start fresh, and
        // its labels need not be the run's.
        bool encoderOnly = MlmPretrainer.IsPretrained(sourceDir);
        RequireSameShape(source.Config, model.Config, sourceDir, encoderOnly);

        var weights = source.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (encoderOnly && !name.StartsWith("encoder.", StringComparison.Ordinal)) continue;
            if (!weights.TryGetValue(name, out var value))
                throw new InvalidDataException($"--init-from: '{sourceDir}' has no parameter '{name}'");
            parameter.copy_(value);
        }
    }

    private static void RequireSameShape(NluEncoderConfig from, NluEncoderConfig to, string sourceDir, bool encoderOnly)
    {
        var differences = from.Differences(to, layerSizes: true).Where(d => !encoderOnly || d.Key is not ("intents" or "bio_tags"))
            .Select(d => $"{d.Key} {d.Mine} vs {d.Other}").ToList();
        if (differences.Count > 0)
            throw new InvalidDataException($"--init-from: '{sourceDir}' does not match the run's --config ({string.Join("; ", differences)})");
    }

    /// <summary>The same token ids must mean the same text, so the run's vocab.json and merges.txt must be the source's.</summary>
    private static void RequireSameTokenizer(string sourceDir, string outDir)
    {
        foreach (var file in new[] { "vocab.json", "merges.txt" })
        {
            string a = Path.Combine(sourceDir, file), b = Path.Combine(outDir, file);
            if (!File.Exists(a) || !File.Exists(b) || !File.ReadAllBytes(a).AsSpan().SequenceEqual(File.ReadAllBytes(b)))
                throw new InvalidDataException($"--init-from: the run's {file} differs from '{sourceDir}''s (use that model's tokenizer: --tokenizer {sourceDir})");
        }
    }
}
