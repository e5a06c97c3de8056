using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;

namespace MoltBot.Inference.Training.Loop;

/// <summary>
/// The resumable part of a run, kept in &lt;out&gt;/checkpoint/: the step reached, the options it ran with and the
/// optimiser moments. The weights themselves are the model folder &lt;out&gt; (safetensors), saved at the same time.
/// </summary>
public static class TrainerState
{
    public const string Folder = "checkpoint";
    private const string StateFile = "trainer_state.json";
    private const string OptimizerFile = "optimizer.bin";

    public static bool Exists(string outDir) => File.Exists(Path.Combine(outDir, Folder, StateFile));

    public static void Save(string outDir, long step, JsonObject options, TorchSharp.Modules.OptimizerHelper optimizer)
    {
        string dir = Path.Combine(outDir, Folder);
        Directory.CreateDirectory(dir);
        optimizer.save_state_dict(Path.Combine(dir, OptimizerFile));
        var state = new JsonObject { ["step"] = step, ["options"] = options.DeepClone() };
        File.WriteAllText(Path.Combine(dir, StateFile), state.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Returns the step to continue from and restores the optimiser moments.</summary>
    public static long Load(string outDir, TorchSharp.Modules.OptimizerHelper optimizer)
    {
        string dir = Path.Combine(outDir, Folder);
        var state = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, StateFile)))!;
        optimizer.load_state_dict(Path.Combine(dir, OptimizerFile));
        return (long)state["step"]!;
    }

    /// <summary>A finished run needs no resume state; the folder then holds only the model and its metrics.</summary>
    public static void Clear(string outDir)
    {
        string dir = Path.Combine(outDir, Folder);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }
}
