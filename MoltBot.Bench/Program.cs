using BenchmarkDotNet.Running;

// `dotnet run -c Release --project MoltBot.Bench -- [BenchmarkDotNet args]` runs the micro-benchmarks;
// `... -- memory [hnsw|eventlog|profile|all] [options]` runs the memory benchmarks (see MemoryBench.cs).
if (args.Length > 0 && args[0] == "memory") return await MoltBot.Bench.MemoryBench.RunAsync(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(MoltBot.Bench.PipelineBenchmarks).Assembly).Run(args);
return 0;
