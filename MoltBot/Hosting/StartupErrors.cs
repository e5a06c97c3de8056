using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;

namespace MoltBot.Hosting;

/// <summary>
/// Turns start-up failures into one clear line per problem on stderr and exit code 2, instead of a stack trace.
/// </summary>
public static class StartupErrors
{
    public const int ExitCode = 2;

    public static async Task<int> GuardAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception ex) when (Describe(ex) is { Count: > 0 } lines)
        {
            foreach (var line in lines) await Console.Error.WriteLineAsync("moltbot: " + line);
            return ExitCode;
        }
    }

    /// <summary>
    /// DataAnnotations failures read "DataAnnotation validation failed for 'XOptions' members: 'Key' with the error:
    /// 'message'." (reflection validator) or "Key: message" (the source-generated validators) — our messages already
    /// name the full configuration key ("Section:Key …"), so keep just the message.
    /// </summary>
    private static string Clean(string failure)
    {
        var m = System.Text.RegularExpressions.Regex.Match(failure,
            @"^DataAnnotation validation failed for '[^']+' members: '[^']*' with the error: '(.*)'\.$", System.Text.RegularExpressions.RegexOptions.Singleline);
        if (!m.Success)
        {
            // Only when the rest starts with a configuration key, so "Inference: at least one …" stays whole.
            m = System.Text.RegularExpressions.Regex.Match(failure, @"^\w+(?:, \w+)*: (\w+:\w.*)$", System.Text.RegularExpressions.RegexOptions.Singleline);
        }
        return (m.Success ? m.Groups[1].Value : failure).ReplaceLineEndings(" ");
    }

    /// <summary>The one-line messages for a known start-up failure, or none for a real bug (which keeps its trace).</summary>
    public static IReadOnlyList<string> Describe(Exception ex)
    {
        switch (ex)
        {
            case AggregateException agg:
                return agg.InnerExceptions.SelectMany(Describe).ToList();
            case OptionsValidationException ove:
                return ove.Failures.Select(f => "configuration error: " + Clean(f)).ToList();
            case StartupException se:
                return [se.Message];
            case InvalidOperationException ioe when ioe.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal):
                // A module's options bound from a value of the wrong type ("--Inference:Threads x"): the binder's
                // message names the value, the key and the type.
                return ["configuration error: " + ioe.Message.ReplaceLineEndings(" ")];
            case FileNotFoundException or InvalidDataException:
                return [ex.Message];
            case IOException io when io.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase):
                return [$"cannot listen: {io.Message} Set another address with --urls or Kestrel:Endpoints."];
            case DllNotFoundException or TypeInitializationException when NativeLibraryHint.Matches(ex):
                return [NativeLibraryHint.Message];
            default:
                return ex.InnerException is { } inner ? Describe(inner) : [];
        }
    }
}

/// <summary>The one line printed when TorchSharp's native library cannot load (usually an old libstdc++).</summary>
public static class NativeLibraryHint
{
    public const string Message =
        "cannot load TorchSharp's native library (libLibTorchSharp.so): it needs libstdc++ with GLIBCXX_3.4.32 (GCC 13+). " +
        "Run scripts/bootstrap.sh as root (Debian 12), or install a newer libstdc++6 with your package manager.";

    public static bool Matches(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            string m = e.Message;
            if (m.Contains("LibTorchSharp", StringComparison.OrdinalIgnoreCase) || m.Contains("GLIBCXX", StringComparison.Ordinal)
                || m.Contains("libtorch", StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return false;
    }
}
