using MoltBot.Contracts.Inference;
using MoltBot.Inference.Models;

namespace MoltBot.Inference.Engines;

/// <summary>
/// One generation of loaded models and their decode loops. Reference-counted: a reload publishes a new set and
/// retires this one, which is disposed only after the last in-flight request released it.
/// </summary>
internal sealed class ModelSet
{
    private int refs = 1;
    private int disposed;
    private bool keepModels;

    public LoadedNlu? TeacherNlu { get; init; }
    public LoadedNlu? StudentNlu { get; init; }
    public LoadedDecoder? TeacherLm { get; init; }
    public LoadedDecoder? StudentLm { get; init; }
    public GenerationLoop? TeacherLoop { get; set; }
    public GenerationLoop? StudentLoop { get; set; }
    public SpeculativeDecoder? Speculative { get; set; }
    public IReadOnlyList<ModelInfo> Infos { get; init; } = [];
    /// <summary>The start-up set with only the primary NLU model; the complete set replaces it.</summary>
    public bool IsPartial { get; init; }
    /// <summary>Models skipped because their folder was missing or broken (ContinueWithoutBrokenModel).</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    public static ModelSet Empty { get; } = new();

    public bool TryAcquire()
    {
        while (true)
        {
            int r = Volatile.Read(ref refs);
            if (r <= 0) return false;
            if (Interlocked.CompareExchange(ref refs, r + 1, r) == r) return true;
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref refs) == 0) DisposeModels();
    }

    /// <summary>Stops accepting work; the models go away when the last user releases them.</summary>
    public void Retire()
    {
        TeacherLoop?.Complete();
        StudentLoop?.Complete();
        Release();
    }

    /// <summary>Retires a set whose models live on in its successor (the partial start-up set).</summary>
    public void RetireKeepingModels()
    {
        keepModels = true;
        Retire();
    }

    private void DisposeModels()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1 || keepModels) return;
        Speculative?.Dispose();
        TeacherNlu?.Dispose();
        StudentNlu?.Dispose();
        TeacherLm?.Dispose();
        StudentLm?.Dispose();
    }
}
