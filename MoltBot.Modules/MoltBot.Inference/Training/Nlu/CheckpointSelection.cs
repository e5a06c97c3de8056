namespace MoltBot.Inference.Training.Nlu;

/// <summary>Which weights a finished NLU run leaves in its output folder.</summary>
public enum CheckpointSelection
{
    /// <summary>The evaluation with the highest dev intent accuracy (ties: higher dev entity F1, then the earlier step).</summary>
    Best,
    /// <summary>The weights after the last optimiser step.</summary>
    Last,
}

public static class CheckpointSelections
{
    public static string Name(this CheckpointSelection selection) => selection == CheckpointSelection.Best ? "best" : "last";

    /// <summary>Parses a `--keep` value; anything but best/last is an error that names the allowed values.</summary>
    public static CheckpointSelection Parse(string value) => value.Trim().ToLowerInvariant() switch
    {
        "best" => CheckpointSelection.Best,
        "last" => CheckpointSelection.Last,
        _ => throw new ArgumentException($"--keep must be 'best' or 'last' (got '{value}')"),
    };
}
