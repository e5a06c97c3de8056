namespace MoltBot.Inference.Training.Corpus;

/// <summary>A corpus file that cannot be used as given; the message names the file and the line.</summary>
public sealed class NluDataException(string file, int line, string reason)
    : Exception($"{file}:{line}: {reason}")
{
    public string File { get; } = file;
    public int Line { get; } = line;
    public string Reason { get; } = reason;
}
