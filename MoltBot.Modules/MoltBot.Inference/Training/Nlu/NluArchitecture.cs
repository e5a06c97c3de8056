using System.Text.Json.Nodes;

namespace MoltBot.Inference.Training.Nlu;

/// <summary>Size of an NLU encoder to train (the labels and vocabulary come from the data and the tokenizer).</summary>
public sealed record NluArchitecture(int Hidden = 192, int Layers = 3, int Heads = 4, int Intermediate = 512, int Embedding = 128, int MaxPositions = 96)
{
    /// <summary>Reads {"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "embedding_size"} (missing keys keep defaults).</summary>
    public static NluArchitecture FromJson(string jsonOrPath, NluArchitecture defaults)
    {
        var o = ArchitectureJson.Parse(jsonOrPath);
        return new NluArchitecture(
            ArchitectureJson.Int(o, "hidden_size", defaults.Hidden),
            ArchitectureJson.Int(o, "num_hidden_layers", defaults.Layers),
            ArchitectureJson.Int(o, "num_attention_heads", defaults.Heads),
            ArchitectureJson.Int(o, "intermediate_size", defaults.Intermediate),
            ArchitectureJson.Int(o, "embedding_size", defaults.Embedding),
            ArchitectureJson.Int(o, "max_position_embeddings", defaults.MaxPositions));
    }
}

/// <summary>
/// Size of an n-gram NLU model to train (`train nlu --arch ngram`, <see cref="Models.NgramClassifier"/>): rows of the
/// hashed feature table, width of a feature vector, longest character n-gram.
/// </summary>
public sealed record NgramArchitecture(int NumBuckets = 16384, int EmbeddingDim = 48, int MaxCharNgram = 4)
{
    /// <summary>Reads {"num_buckets", "embedding_dim", "max_char_ngram"} (missing keys keep defaults; any other key is an error).</summary>
    public static NgramArchitecture FromJson(string jsonOrPath, NgramArchitecture defaults)
    {
        var o = ArchitectureJson.Parse(jsonOrPath);
        foreach (var (key, _) in o)
            if (key is not ("num_buckets" or "embedding_dim" or "max_char_ngram"))
                throw new InvalidDataException($"--config key \"{key}\" is not an n-gram model setting (num_buckets, embedding_dim, max_char_ngram)");
        return new NgramArchitecture(
            ArchitectureJson.Int(o, "num_buckets", defaults.NumBuckets),
            ArchitectureJson.Int(o, "embedding_dim", defaults.EmbeddingDim),
            ArchitectureJson.Int(o, "max_char_ngram", defaults.MaxCharNgram));
    }
}

/// <summary>Architecture options come as a JSON file path or an inline JSON object.</summary>
public static class ArchitectureJson
{
    public static JsonObject Parse(string jsonOrPath)
    {
        string text = jsonOrPath.TrimStart().StartsWith('{') ? jsonOrPath
            : File.Exists(jsonOrPath) ? File.ReadAllText(jsonOrPath)
            : throw new FileNotFoundException($"student config '{jsonOrPath}' is neither a JSON object nor an existing file", jsonOrPath);
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new InvalidDataException($"student config '{jsonOrPath}' must be a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"student config '{jsonOrPath}' is not valid JSON ({e.Message})", e);
        }
    }

    public static int Int(JsonObject o, string key, int fallback) =>
        o[key] is JsonValue v ? (v.TryGetValue(out int i) ? i : throw new InvalidDataException($"\"{key}\" must be an integer")) : fallback;

    public static bool Bool(JsonObject o, string key, bool fallback) =>
        o[key] is JsonValue v ? (v.TryGetValue(out bool b) ? b : throw new InvalidDataException($"\"{key}\" must be true or false")) : fallback;
}
