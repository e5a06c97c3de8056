using System.Reflection;
using System.Xml.Linq;

namespace MoltBot.Tests.Architecture;

/// <summary>A module references the contracts project only, never another module.</summary>
public class ModuleBoundaryTests
{
    private const string Contracts = "MoltBot.Contracts";

    /// <summary>The module assemblies, found through the types the host composes.</summary>
    public static readonly Assembly[] ModuleAssemblies =
    [
        typeof(MoltBot.Pipeline.PipelineModule).Assembly,
        typeof(MoltBot.Channels.ChannelsModule).Assembly,
        typeof(MoltBot.Gateway.GatewayModule).Assembly,
        typeof(MoltBot.Dialog.DialogModule).Assembly,
        typeof(MoltBot.Memory.MemoryModule).Assembly,
        typeof(MoltBot.Inference.InferenceModule).Assembly,
        typeof(MoltBot.Skills.SkillsModule).Assembly,
        typeof(MoltBot.Security.SecurityModule).Assembly,
    ];

    /// <summary>Each (module, referenced assembly) pair that breaks the rule.</summary>
    public static IReadOnlyList<string> Violations(IEnumerable<(string Module, IEnumerable<string> References)> modules, ISet<string> moduleNames) =>
        modules.SelectMany(m => m.References
                .Where(r => r != m.Module && r != Contracts && (moduleNames.Contains(r) || r == "moltbot"))
                .Select(r => $"{m.Module} references {r}"))
            .ToList();

    [Fact]
    public void Compiled_modules_reference_only_contracts()
    {
        var names = ModuleAssemblies.Select(a => a.GetName().Name!).ToHashSet();
        var modules = ModuleAssemblies.Select(a => (a.GetName().Name!, a.GetReferencedAssemblies().Select(r => r.Name!)));
        Assert.Empty(Violations(modules, names));
    }

    [Fact]
    public void Every_module_project_on_disk_is_checked_and_references_only_contracts()
    {
        string modulesDir = Path.Combine(RepoRoot.Path, "MoltBot.Modules");
        var projects = Directory.GetFiles(modulesDir, "*.csproj", SearchOption.AllDirectories);
        var names = projects.Select(p => Path.GetFileNameWithoutExtension(p)).ToHashSet();
        // A new module project must be added to ModuleAssemblies above, or the compiled check would miss it.
        Assert.Equal(names.Where(n => n != Contracts).Order(), ModuleAssemblies.Select(a => a.GetName().Name!).Order());

        var modules = projects.Select(p => (
            Path.GetFileNameWithoutExtension(p),
            XDocument.Load(p).Descendants("ProjectReference")
                .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')))));
        Assert.Empty(Violations(modules, names));
    }

    [Fact]
    public void A_module_referencing_another_module_is_reported()
    {
        var names = new HashSet<string> { "MoltBot.Dialog", "MoltBot.Memory", Contracts };
        var bad = new[]
        {
            ("MoltBot.Dialog", (IEnumerable<string>)[Contracts, "MoltBot.Memory", "System.Runtime"]),
            ("MoltBot.Memory", (IEnumerable<string>)[Contracts, "moltbot"]),
        };
        var violations = Violations(bad, names);
        Assert.Equal(["MoltBot.Dialog references MoltBot.Memory", "MoltBot.Memory references moltbot"], violations);
    }

    [Fact]
    public void Contracts_reference_no_module()
    {
        var contracts = typeof(MoltBot.Contracts.Messaging.Envelope).Assembly;
        Assert.DoesNotContain(contracts.GetReferencedAssemblies(), r => r.Name!.StartsWith("MoltBot.", StringComparison.Ordinal) || r.Name == "moltbot");
    }
}
