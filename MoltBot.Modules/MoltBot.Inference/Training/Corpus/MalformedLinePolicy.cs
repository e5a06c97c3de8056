namespace MoltBot.Inference.Training.Corpus;

/// <summary>What a reader does with a line it cannot parse: stop with an error naming the line, or skip and report it.</summary>
public enum MalformedLinePolicy
{
    Fail,
    Skip,
}
