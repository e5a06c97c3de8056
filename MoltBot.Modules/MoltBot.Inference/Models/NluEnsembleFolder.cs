using System.Text.Json;
using System.Text.Json.Nodes;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Tokenization;

namespace MoltBot.Inference.Models;

/// <summary>
/// Reads and writes NLU ensemble folders: config.json
/// <c>{"model_type": "moltbot_nlu_ensemble", "members": ["member-0", …], "combine": "mean_probabilities"}</c> (optionally
/// <c>"member_weights": [1, 1, 1, 0.5]</c>: the intent mean is then weighted; checked at load: one finite number &gt; 0
/// per member), the shared tokenizer files (vocab.json, merges.txt, tokenizer_config.json) at the top, and one complete
/// FP32 NLU model folder per member (config.json, model.safetensors and the same tokenizer files, so a member also loads
/// and evaluates alone). Members are encoders (moltbot_nlu) or n-gram classifiers (moltbot_nlu_ngram, no tag head: the
/// ensemble's tags come from its encoders); the first member must be an encoder (its embedding is served).
/// A member with a different tokenizer, label set, vocabulary or padding is refused, naming the file; encoders must
/// also agree on positions and embedding size.
/// </summary>
public static class NluEnsembleFolder
{
    public const string ModelTypeName = "moltbot_nlu_ensemble";
    public const string Combine = "mean_probabilities";

    /// <summary>The tokenizer files every member must share byte for byte with the ensemble folder.</summary>
    private static readonly string[] SharedTokenizerFiles = ["vocab.json", "merges.txt"];
    private static readonly string[] CopiedTokenizerFiles = ["vocab.json", "merges.txt", "tokenizer_config.json"];
    private static readonly string[] TrainingRecordFiles = ["metrics.json", "training-curve.png", "training-curve.svg"];

    /// <summary>True when <paramref name="folder"/>'s config.json says moltbot_nlu_ensemble.</summary>
    public static bool IsEnsemble(string folder)
    {
        string file = Path.Combine(folder, "config.json");
        return File.Exists(file) && ConfigJson.Load(file).String("model_type") == ModelTypeName;
    }

    /// <summary>The member folders named by the ensemble's config.json (checked: plain subfolder names, at least one).</summary>
    public static IReadOnlyList<string> MemberFolders(string folder)
    {
        var json = ConfigJson.Load(Path.Combine(folder, "config.json"));
        if (json.String("model_type") != ModelTypeName)
            throw new ModelFormatException(json.File, null, $"model_type must be \"{ModelTypeName}\" for an NLU ensemble folder");
        if (json.Has("combine") && json.String("combine") != Combine)
            throw new ModelFormatException(json.File, null, $"config key 'combine' must be \"{Combine}\" (the only combination rule)");
        var names = json.StringList("members");
        if (names.Count == 0) throw new ModelFormatException(json.File, null, "config key 'members' lists no member folder");
        foreach (var n in names)
        {
            if (n.Length == 0 || n.Contains('/') || n.Contains('\\') || n is "." or "..")
                throw new ModelFormatException(json.File, null, $"member '{n}' must be the name of a subfolder of the ensemble folder");
        }
        if (names.Distinct().Count() != names.Count) throw new ModelFormatException(json.File, null, "config key 'members' names a folder twice");
        return names.Select(n => Path.Combine(folder, n)).ToList();
    }

    /// <summary>The shared label/vocabulary config (the first member's), without loading weights.</summary>
    public static NluEncoderConfig SharedConfig(string folder) =>
        NluEncoderConfig.Load(Path.Combine(MemberFolders(folder)[0], "config.json"));

    /// <summary>
    /// The intent-mean weight of each member: config key 'member_weights' (one finite number &gt; 0 per member), or all
    /// 1 when the key is absent.
    /// </summary>
    public static IReadOnlyList<double> MemberWeights(string folder)
    {
        var json = ConfigJson.Load(Path.Combine(folder, "config.json"));
        int count = MemberFolders(folder).Count;
        if (!json.Has("member_weights")) return Enumerable.Repeat(1.0, count).ToList();
        string problem = $"config key 'member_weights' must be a list of {count} finite numbers > 0 (one per member)";
        if (json.Root["member_weights"] is not JsonArray a || a.Count != count) throw new ModelFormatException(json.File, null, problem);
        var weights = new List<double>(count);
        foreach (var n in a)
        {
            if (n is not JsonValue v || !v.TryGetValue(out double w) || !double.IsFinite(w) || w <= 0) throw new ModelFormatException(json.File, null, problem);
            weights.Add(w);
        }
        return weights;
    }

    /// <summary>Loads every member (FP32) and checks that they fit together; <see cref="ModelFormatException"/> names the file.</summary>
    public static LoadedNlu Load(string folder, IInt8Kernel int8Kernel)
    {
        var memberDirs = MemberFolders(folder);
        var weights = MemberWeights(folder);
        foreach (var dir in memberDirs) RequireSameTokenizer(folder, dir);
        var tokenizer = TextTokenizer.Load(folder);
        var loaded = new List<LoadedNlu>();
        try
        {
            foreach (var dir in memberDirs)
            {
                string file = Path.Combine(dir, "config.json");
                if (IsEnsemble(dir)) throw new ModelFormatException(file, null, "a member cannot itself be an ensemble");
                bool ngram = ModelFolder.IsNgram(dir);
                if (ngram && loaded.Count == 0) throw new ModelFormatException(file, null, FirstMemberProblem);
                var member = ngram ? ModelFolder.LoadNgram(dir) : ModelFolder.LoadNlu(dir, int8Kernel);
                loaded.Add(member);
                if (member.Precision != "fp32")
                    throw new ModelFormatException(file, null, $"member holds {member.Precision} weights; ensemble members are FP32");
                RequireCompatible(loaded[0].Config, member.Config, file, encoder: !ngram);
            }
            var ensemble = new NluEnsemble(loaded.Select(m => m.Model).ToList(), weights);
            ensemble.eval();
            return new LoadedNlu(folder, ensemble, tokenizer, "fp32", null);
        }
        catch
        {
            foreach (var m in loaded) m.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Builds an ensemble folder from existing FP32 NLU model folders (copied, not moved), then loads it back once to
    /// prove it loads. Each member keeps its training record (metrics.json, training-curve.png/.svg); resumable
    /// checkpoints are not copied.
    /// </summary>
    /// <param name="memberWeights">Intent-mean weight per member (written as 'member_weights'); null = all 1 (key omitted).</param>
    public static void Write(string outDir, IReadOnlyList<string> memberSources, IReadOnlyList<double>? memberWeights = null)
    {
        if (memberSources.Count == 0) throw new ArgumentException("an NLU ensemble needs at least one member folder");
        if (memberWeights is not null && (memberWeights.Count != memberSources.Count || memberWeights.Any(w => !double.IsFinite(w) || w <= 0)))
            throw new ArgumentException($"member weights must be {memberSources.Count} finite numbers > 0 (one per member), got {memberWeights.Count}");
        foreach (var src in memberSources)
        {
            if (!Directory.Exists(src)) throw new ModelFormatException(src, null, "model folder does not exist");
            if (IsEnsemble(src)) throw new ModelFormatException(Path.Combine(src, "config.json"), null, "a member cannot itself be an ensemble");
            RequireSameTokenizer(memberSources[0], src);
        }
        if (ModelFolder.IsNgram(memberSources[0])) throw new ModelFormatException(Path.Combine(memberSources[0], "config.json"), null, FirstMemberProblem);
        var first = NluEncoderConfig.Load(Path.Combine(memberSources[0], "config.json"));
        foreach (var src in memberSources)
        {
            bool ngram = ModelFolder.IsNgram(src);
            RequireCompatible(first, ModelFolder.NluConfigOf(src), Path.Combine(src, "config.json"), encoder: !ngram);
        }

        Directory.CreateDirectory(outDir);
        var names = new JsonArray();
        for (int i = 0; i < memberSources.Count; i++)
        {
            string name = $"member-{i}", dest = Path.Combine(outDir, name);
            if (Path.GetFullPath(memberSources[i]) == Path.GetFullPath(dest)) throw new ArgumentException($"{memberSources[i]} is the member folder being written");
            Directory.CreateDirectory(dest);
            var files = new[] { "config.json" }.Concat(CopiedTokenizerFiles).Concat(TrainingRecordFiles)
                .Concat(Directory.GetFiles(memberSources[i], "*.safetensors").Select(Path.GetFileName).OfType<string>())
                .Append("model.safetensors.index.json");
            foreach (var f in files.Distinct().Where(f => File.Exists(Path.Combine(memberSources[i], f))))
                File.Copy(Path.Combine(memberSources[i], f), Path.Combine(dest, f), overwrite: true);
            names.Add(name);
        }
        foreach (var f in CopiedTokenizerFiles.Where(f => File.Exists(Path.Combine(memberSources[0], f))))
            File.Copy(Path.Combine(memberSources[0], f), Path.Combine(outDir, f), overwrite: true);
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("MoltBotNluEnsemble"),
            ["model_type"] = ModelTypeName,
            ["combine"] = Combine,
            ["members"] = names,
        };
        if (memberWeights is not null) config["member_weights"] = new JsonArray(memberWeights.Select(w => (JsonNode)w).ToArray());
        File.WriteAllText(Path.Combine(outDir, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        using var check = Load(outDir, new WeightOnlyKernel());
    }

    private static void RequireSameTokenizer(string reference, string member)
    {
        foreach (var f in SharedTokenizerFiles)
        {
            string expected = Path.Combine(reference, f), actual = Path.Combine(member, f);
            if (!File.Exists(actual)) throw new ModelFormatException(actual, null, $"ensemble member has no {f} (every member carries the shared tokenizer)");
            if (!File.Exists(expected)) throw new ModelFormatException(expected, null, $"{f} is missing");
            if (!File.ReadAllBytes(expected).AsSpan().SequenceEqual(File.ReadAllBytes(actual)))
                throw new ModelFormatException(actual, null, $"differs from {expected}: ensemble members must share one tokenizer");
        }
    }

    private const string FirstMemberProblem =
        "the first ensemble member must be an encoder (moltbot_nlu): an n-gram member has no tag head and no embedding to serve; list it after an encoder";

    /// <summary>Encoders agree on everything but layer sizes; an n-gram member on the tokenizer facts and the labels (not positions or embedding size).</summary>
    private static void RequireCompatible(NluEncoderConfig first, NluEncoderConfig member, string file, bool encoder)
    {
        var (key, mine, other) = first.Differences(member, layerSizes: false)
            .FirstOrDefault(d => encoder || d.Key is not ("max_position_embeddings" or "embedding_size"));
        if (key is not null)
            throw new ModelFormatException(file, null, $"'{key}' is {other} but the first member's is {mine}: ensemble members must agree on it");
    }
}
