using System.ComponentModel.DataAnnotations;

namespace MoltBot.Contracts.Configuration;

/// <summary>Configuration section "Storage": everything MoltBot persists lives under <see cref="DataDirectory"/>.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Relative paths resolve against the content root (the working directory of `dotnet run`).</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Storage:DataDirectory must be a directory path (default \"data\").")]
    public string DataDirectory { get; set; } = "data";
}

/// <summary>Configuration section "Models": where the model folders are found.</summary>
public sealed class ModelsOptions
{
    public const string Section = "Models";

    [Required(AllowEmptyStrings = false, ErrorMessage = "Models:Directory must be a directory path (default \"models\").")]
    public string Directory { get; set; } = "models";
}
