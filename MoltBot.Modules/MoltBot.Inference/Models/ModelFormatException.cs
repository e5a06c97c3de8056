namespace MoltBot.Inference.Models;

/// <summary>
/// A model folder that cannot be used: truncated or lying safetensors, missing tensor, shape that contradicts
/// config.json, unknown dtype. The message always names the file and, when there is one, the tensor.
/// </summary>
public sealed class ModelFormatException(string file, string? tensor, string problem, Exception? inner = null)
    : Exception(Format(file, tensor, problem), inner)
{
    public string FilePath { get; } = file;
    public string? Tensor { get; } = tensor;

    private static string Format(string file, string? tensor, string problem) =>
        tensor is null ? $"{file}: {problem}" : $"{file}: tensor '{tensor}': {problem}";
}
