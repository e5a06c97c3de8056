namespace MoltBot.Contracts.Configuration;

/// <summary>
/// Absolute paths resolved once at start from Storage:DataDirectory and Models:Directory (relative ones resolve
/// against the content root). Modules take this instead of resolving paths themselves.
/// </summary>
public sealed record MoltBotPaths(string ContentRoot, string DataDirectory, string ModelsDirectory)
{
    /// <summary>A path under the data directory, e.g. Data("logs") or Data("pipeline", "pending.jsonl").</summary>
    public string Data(params string[] parts) => Path.Combine([DataDirectory, .. parts]);

    public string Model(params string[] parts) => Path.Combine([ModelsDirectory, .. parts]);

    /// <exception cref="StartupException">A blank directory setting: it would resolve to the content root, and files
    /// (keys, databases) would be written there before the options' own validation ran.</exception>
    public static MoltBotPaths Resolve(string contentRoot, StorageOptions storage, ModelsOptions models)
    {
        if (string.IsNullOrWhiteSpace(storage.DataDirectory))
            throw new StartupException("configuration error: Storage:DataDirectory must be a directory path (default \"data\").");
        if (string.IsNullOrWhiteSpace(models.Directory))
            throw new StartupException("configuration error: Models:Directory must be a directory path (default \"models\").");
        return new(contentRoot, Path.GetFullPath(storage.DataDirectory, contentRoot), Path.GetFullPath(models.Directory, contentRoot));
    }
}
