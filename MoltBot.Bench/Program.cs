using BenchmarkDotNet.Running;

// `dotnet run -c Release --project MoltBot.Bench -- [BenchmarkDotNet args]` runs the micro-benchmarks.
// `dotnet run -c Release --project MoltBot.Bench -- inference` runs the model benchmarks (InferenceBench.cs).
if (args.Length > 0 && args[0] == "inference")
{
    MoltBot.Bench.InferenceBench.Run(args[1..]);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(MoltBot.Bench.PipelineBenchmarks).Assembly).Run(args);
