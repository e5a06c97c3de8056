using System.Text.Json;
using System.Text.Json.Nodes;
using MoltBot.Inference.Models;

namespace MoltBot.Inference.Training.Lm;

/// <summary>
/// Keeps a copy of the decoder with the lowest held-out loss in its own folder (best.json records step, loss and
/// perplexity). A resumed run reads best.json back, so it never replaces a better earlier checkpoint.
/// </summary>
internal sealed class BestCheckpoint
{
    private const string RecordFile = "best.json";
    private readonly string? dir;
    private readonly string tokenizerDir;
    private double bestLoss = double.PositiveInfinity;

    public BestCheckpoint(string? dir, string tokenizerDir)
    {
        this.dir = dir;
        this.tokenizerDir = tokenizerDir;
        string record = dir is null ? "" : Path.Combine(dir, RecordFile);
        if (dir is not null && File.Exists(record))
            bestLoss = JsonNode.Parse(File.ReadAllText(record))?["heldout_loss"]?.GetValue<double>()
                ?? throw new InvalidDataException($"'{record}' has no heldout_loss");
    }

    public void Offer(DecoderLM model, long step, double heldOutLoss)
    {
        if (dir is null || !(heldOutLoss < bestLoss)) return;
        bestLoss = heldOutLoss;
        Directory.CreateDirectory(dir);
        ModelFolder.SaveDecoder(dir, model, tokenizerFrom: tokenizerDir);
        var record = new JsonObject { ["step"] = step, ["heldout_loss"] = heldOutLoss, ["heldout_perplexity"] = Math.Exp(heldOutLoss) };
        File.WriteAllText(Path.Combine(dir, RecordFile), record.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
