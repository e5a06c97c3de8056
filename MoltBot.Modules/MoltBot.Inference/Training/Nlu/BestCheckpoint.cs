using System.Text.Json;
using System.Text.Json.Nodes;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using MoltBot.Inference.Training.Loop;
using TorchSharp;

namespace MoltBot.Inference.Training.Nlu;

/// <summary>
/// The best-dev weights seen so far in a run, kept as a model folder inside the resumable checkpoint
/// (&lt;out&gt;/checkpoint/best/) so an interrupted run resumes with its best checkpoint known; the folder goes away
/// with the rest of the checkpoint when the run finishes.
/// </summary>
public sealed class BestCheckpoint
{
    private const string ScoreFile = "best.json";
    private readonly string dir;

    private BestCheckpoint(string outDir) => dir = Path.Combine(outDir, TrainerState.Folder, "best");

    public DevScore? Score { get; private set; }
    public long Step { get; private set; }

    /// <summary>A fresh run forgets a stale best folder; a resumed one reads the best score it had reached.</summary>
    public static BestCheckpoint Open(string outDir, bool resume)
    {
        var best = new BestCheckpoint(outDir);
        string scoreFile = Path.Combine(best.dir, ScoreFile);
        if (!resume)
        {
            if (Directory.Exists(best.dir)) Directory.Delete(best.dir, recursive: true);
        }
        else if (File.Exists(scoreFile))
        {
            var json = JsonNode.Parse(File.ReadAllText(scoreFile))!;
            best.Step = (long)json["step"]!;
            best.Score = new DevScore((double)json["dev_intent_accuracy"]!, (double)json["dev_entity_f1"]!);
        }
        return best;
    }

    /// <summary>Saves the model's weights when <paramref name="score"/> beats the best so far; true if it did.</summary>
    public bool Offer(NluModel model, DevScore score, long step, string tokenizerFrom)
    {
        if (!score.IsBetterThan(Score)) return false;
        ModelFolder.SaveNluModel(dir, model, tokenizerFrom);
        var json = new JsonObject { ["step"] = step, ["dev_intent_accuracy"] = score.IntentAccuracy, ["dev_entity_f1"] = score.EntityF1 };
        File.WriteAllText(Path.Combine(dir, ScoreFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Score = score;
        Step = step;
        return true;
    }

    /// <summary>Copies the best weights into <paramref name="model"/> (same model class and size).</summary>
    public void RestoreInto(NluModel model)
    {
        if (Score is null) throw new InvalidOperationException("no best checkpoint was saved in this run");
        using var best = ModelFolder.LoadNlu(dir, new WeightOnlyKernel());
        var source = best.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (!source.TryGetValue(name, out var value)) throw new InvalidDataException($"the best checkpoint in {dir} has no parameter '{name}'");
            parameter.copy_(value);
        }
    }
}
