using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Inference;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using TorchSharp;

namespace MoltBot.Inference.Engines;

/// <summary>
/// Loads the four model folders (teacher/student × NLU/LM) from Models:Directory, publishes them as one
/// <see cref="ModelSet"/>, and swaps in a fresh set on reload while the old one finishes its requests.
/// </summary>
internal sealed class ModelRegistry(IOptions<InferenceOptions> options, MoltBotPaths paths, ILoggerFactory loggers) : IModelCatalog, IModelAdmin, IDisposable
{
    private readonly ILogger logger = loggers.CreateLogger<ModelRegistry>();
    private readonly SemaphoreSlim reloadGate = new(1, 1);
    private ModelSet current = ModelSet.Empty;
    private Int8KernelChoice? kernel;

    public bool IsLoaded { get; private set; }
    public ModelSet Current => Volatile.Read(ref current);
    public IReadOnlyList<ModelInfo> Models => Current.Infos;
    public torch.Device Device { get; private set; } = torch.CPU;
    public string? KernelName => kernel?.Kernel.Name;

    /// <summary>A set the caller may use until it calls Release (retries if a reload retires it meanwhile).</summary>
    public ModelSet Acquire()
    {
        while (true)
        {
            var set = Current;
            if (set.TryAcquire()) return set;
        }
    }

    /// <summary>First load at start-up: native library, threads, device, int8 kernel, models.</summary>
    public void LoadAtStartup()
    {
        var o = options.Value;
        try
        {
            if (o.Threads > 0) torch.set_num_threads(o.Threads);
            Device = o.Device switch
            {
                "cuda" when !torch.cuda.is_available() => throw new StartupException("Inference:Device is 'cuda' but no CUDA device is available (build with -p:MoltBotTorchBackend=cuda on a GPU host, or set Inference:Device to cpu or auto)."),
                "cuda" => torch.CUDA,
                "auto" => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
                _ => torch.CPU,
            };
            kernel = Int8KernelSelector.Select(o.Int8Kernel);
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or BadImageFormatException)
        {
            throw new StartupException(NativeLibraryMessage, ex);
        }
        if (o.Int8Kernel == "fbgemm" && kernel.Kernel is not FbgemmInt8Kernel)
            throw new StartupException($"Inference:Int8Kernel is 'fbgemm' but {kernel.Reason}.");
        logger.LogInformation("Inference: device {Device}, {Threads} torch threads, int8 kernel {Kernel} ({Reason})",
            Device.type, torch.get_num_threads(), kernel.Kernel.Name, kernel.Reason);
        Publish(Load(o));
        IsLoaded = true;
    }

    /// <summary>The sentence MoltBot.Hosting.NativeLibraryHint prints (copied: modules cannot reference the host).</summary>
    public const string NativeLibraryMessage =
        "cannot load TorchSharp's native library (libLibTorchSharp.so): it needs libstdc++ with GLIBCXX_3.4.32 (GCC 13+). " +
        "Run scripts/bootstrap.sh as root (Debian 12), or install a newer libstdc++6 with your package manager.";

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        await reloadGate.WaitAsync(cancellationToken);
        try
        {
            var o = options.Value;
            var set = await Task.Run(() => Load(o), cancellationToken);
            Publish(set);
            logger.LogInformation("Models reloaded: {Models}", string.Join(", ", set.Infos.Select(i => i.Id)));
        }
        catch (StartupException ex)
        {
            // A reload that fails keeps the old models serving; the admin gets the reason.
            throw new InvalidOperationException(ex.Message, ex);
        }
        finally
        {
            reloadGate.Release();
        }
    }

    private void Publish(ModelSet set)
    {
        var old = Interlocked.Exchange(ref current, set);
        if (!ReferenceEquals(old, ModelSet.Empty)) old.Retire();
    }

    private ModelSet Load(InferenceOptions o)
    {
        var k = kernel!.Kernel;
        var problems = new List<string>();
        var infos = new List<ModelInfo>();
        T? Try<T>(string name, string kind, Func<string, T> load) where T : class
        {
            if (string.IsNullOrEmpty(name)) return null;
            string folder = paths.Model(name);
            var sw = Stopwatch.StartNew();
            try
            {
                var m = load(folder);
                logger.LogInformation("Loaded {Kind} model {Name} from {Folder} in {Ms:F0} ms", kind, name, folder, sw.Elapsed.TotalMilliseconds);
                return m;
            }
            catch (ModelFormatException ex)
            {
                string message = $"model '{name}' ({kind}) cannot be loaded: {ex.Message}";
                if (!o.ContinueWithoutBrokenModel)
                    throw new StartupException(message + " (set Inference:ContinueWithoutBrokenModel=true to serve without it)", ex);
                logger.LogError("{Message}; continuing without it", message);
                problems.Add(message);
                return null;
            }
        }
        var teacherNlu = Try(o.TeacherNlu, "nlu", f => ModelFolder.LoadNlu(f, k));
        var studentNlu = Try(o.StudentNlu, "nlu", f => ModelFolder.LoadNlu(f, k));
        var teacherLm = Try(o.TeacherLm, "lm", f => ToDevice(ModelFolder.LoadDecoder(f, k)));
        var studentLm = Try(o.StudentLm, "lm", f => ToDevice(ModelFolder.LoadDecoder(f, k)));
        var set = new ModelSet
        {
            TeacherNlu = teacherNlu, StudentNlu = studentNlu, TeacherLm = teacherLm, StudentLm = studentLm,
            Problems = problems,
            Infos = new[]
            {
                Info(o.TeacherNlu, "nlu", teacherNlu?.Precision, teacherNlu?.Kernel, teacherNlu?.Model, teacherNlu?.Folder),
                Info(o.StudentNlu, "nlu", studentNlu?.Precision, studentNlu?.Kernel, studentNlu?.Model, studentNlu?.Folder),
                Info(o.TeacherLm, "lm", teacherLm?.Precision, teacherLm?.Kernel, teacherLm?.Model, teacherLm?.Folder),
                Info(o.StudentLm, "lm", studentLm?.Precision, studentLm?.Kernel, studentLm?.Model, studentLm?.Folder),
            }.OfType<ModelInfo>().ToList(),
        };
        var loopLogger = loggers.CreateLogger<GenerationLoop>();
        if (teacherLm is not null) set.TeacherLoop = new GenerationLoop(o.TeacherLm, teacherLm, set, o.LmMaxBatch, o.MaxSequenceLength, o.QueueCapacity, loopLogger);
        if (studentLm is not null) set.StudentLoop = new GenerationLoop(o.StudentLm, studentLm, set, o.LmMaxBatch, o.MaxSequenceLength, o.QueueCapacity, loopLogger);
        if (teacherLm is not null && studentLm is not null && SpeculativeDecoder.Compatible(teacherLm, studentLm))
            set.Speculative = new SpeculativeDecoder(teacherLm, studentLm, o.SpeculativeDraftTokens, o.MaxSequenceLength);
        else if (o.LmPolicy == "speculative")
            logger.LogWarning("Inference:LmPolicy is speculative but the teacher and student LMs are not both loaded with one vocabulary; the teacher answers alone");
        return set;
    }

    /// <summary>FP32 models move to the selected device; INT8 ones stay on the CPU (the int8 kernels are CPU kernels).</summary>
    private LoadedDecoder ToDevice(LoadedDecoder d)
    {
        if (Device.type != DeviceType.CPU && d.Precision == "fp32") d.Model.to(Device);
        return d;
    }

    private static ModelInfo? Info(string id, string kind, string? precision, string? kernelName, torch.nn.Module? model, string? folder) =>
        model is null ? null
            : new ModelInfo(id, kind, precision ?? "fp32", model.parameters().Sum(p => p.numel()), true) { Path = folder, Kernel = kernelName };

    public void Dispose()
    {
        Publish(ModelSet.Empty);
        reloadGate.Dispose();
    }
}
