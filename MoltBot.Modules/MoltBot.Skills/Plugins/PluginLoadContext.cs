using System.Reflection;
using System.Runtime.Loader;

namespace MoltBot.Skills.Plugins;

/// <summary>
/// A collectible load context for one plugin folder. Assemblies the host already has (MoltBot.Contracts, the
/// framework, Microsoft.Extensions.*) come from the default context so the plugin's ISkill is the host's ISkill;
/// the plugin's own assemblies load from its folder. Files are read into memory, so the folder can be replaced while
/// the old version still runs.
/// </summary>
internal sealed class PluginLoadContext(string directory, string name) : AssemblyLoadContext("plugin:" + name, isCollectible: true)
{
    public Assembly LoadMain(string fileName) => LoadFromBytes(Path.Combine(directory, fileName));

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is null || IsShared(assemblyName.Name)) return null;
        string candidate = Path.Combine(directory, assemblyName.Name + ".dll");
        return File.Exists(candidate) ? LoadFromBytes(candidate) : null;
    }

    private static bool IsShared(string name) =>
        name == "MoltBot.Contracts" || Default.Assemblies.Any(a => a.GetName().Name == name);

    private Assembly LoadFromBytes(string path)
    {
        using var image = new MemoryStream(File.ReadAllBytes(path));
        string pdbPath = Path.ChangeExtension(path, ".pdb");
        if (File.Exists(pdbPath))
        {
            using var pdb = new MemoryStream(File.ReadAllBytes(pdbPath));
            return LoadFromStream(image, pdb);
        }
        return LoadFromStream(image);
    }
}
