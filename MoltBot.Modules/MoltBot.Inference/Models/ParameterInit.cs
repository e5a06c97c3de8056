namespace MoltBot.Inference.Models;

/// <summary>
/// Random initialisation of new parameters, switched off while a checkpoint is being loaded: every parameter is
/// overwritten from the file anyway, so skipping the init makes loading faster (and pages an INT8 layer releases
/// right after quantizing are never written).
/// </summary>
public static class ParameterInit
{
    [ThreadStatic] private static int skipDepth;

    public static bool Enabled => skipDepth == 0;

    /// <summary>Within the returned scope (on this thread) new modules leave their parameters uninitialised.</summary>
    public static IDisposable Skip()
    {
        skipDepth++;
        return new Scope();
    }

    private sealed class Scope : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            skipDepth--;
        }
    }
}
