using BenchmarkDotNet.Running;

// `dotnet run -c Release --project MoltBot.Bench -- [BenchmarkDotNet args]` runs the micro-benchmarks.
BenchmarkSwitcher.FromAssembly(typeof(MoltBot.Bench.PipelineBenchmarks).Assembly).Run(args);
