using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;

namespace MoltBot.Hosting;

/// <summary>
/// Configuration sources, lowest to highest precedence: appsettings.json, appsettings.{Environment}.json,
/// config/*.json (alphabetical), ASPNETCORE_* variables, MOLTBOT__Section__Key variables, the command line.
/// </summary>
internal static class ConfigurationSetup
{
    public const string EnvironmentPrefix = "MOLTBOT__";

    public static void Apply(ConfigurationManager configuration, string contentRoot, string environmentName, string[] args)
    {
        // Keep the host-defaults sources (content root, environment); replace the file/env/command-line ones in our order.
        foreach (var source in configuration.Sources.ToList())
        {
            if (source is JsonConfigurationSource or EnvironmentVariablesConfigurationSource or CommandLineConfigurationSource
                || source.GetType().Name.Contains("UserSecrets", StringComparison.Ordinal))
            {
                configuration.Sources.Remove(source);
            }
        }

        configuration.AddJsonFile(Path.Combine(contentRoot, "appsettings.json"), optional: true, reloadOnChange: false);
        configuration.AddJsonFile(Path.Combine(contentRoot, $"appsettings.{environmentName}.json"), optional: true, reloadOnChange: false);
        string configDir = Path.Combine(contentRoot, "config");
        if (Directory.Exists(configDir))
        {
            foreach (var file in Directory.GetFiles(configDir, "*.json").Order(StringComparer.Ordinal))
            {
                configuration.AddJsonFile(file, optional: false, reloadOnChange: false);
            }
        }
        configuration.AddEnvironmentVariables("ASPNETCORE_");
        configuration.AddEnvironmentVariables(EnvironmentPrefix);
        configuration.AddCommandLine(args);
    }
}
