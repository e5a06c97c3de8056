using System.Globalization;

namespace MoltBot.Bench;

/// <summary>The "--name value" options of the bench verbs (an option given without a value counts as absent).</summary>
internal sealed class BenchArgs(string[] args)
{
    public string? Text(string name)
    {
        int i = Array.IndexOf(args, "--" + name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    public int Int(string name, int fallback) => Text(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public bool Flag(string name) => args.Contains("--" + name);
}

/// <summary>Where the bench verbs find the repository, and the load average they print beside every figure.</summary>
internal static class BenchEnvironment
{
    /// <summary>The repository root (the folder with MoltBot.sln, appsettings.json and models/) above the working directory.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "appsettings.json")) && Directory.Exists(Path.Combine(dir.FullName, "models"))) return dir.FullName;
        throw new DirectoryNotFoundException("run from the repository (a folder with appsettings.json and models/), or pass --models DIR");
    }

    /// <summary>The 1, 5 and 15 minute load averages ("n/a" where /proc/loadavg is missing).</summary>
    public static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "n/a"; }
    }
}
