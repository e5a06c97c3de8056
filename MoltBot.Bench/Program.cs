using BenchmarkDotNet.Running;
using MoltBot.Bench.Load;

// dotnet run -c Release --project MoltBot.Bench -- load [--scenario S] [--connections 1,10,100] [--messages N] [--rate R] [--url URL [--server-pid PID]]
// dotnet run -c Release --project MoltBot.Bench -- coldstart [--runs N] [--dll PATH] [--server-args "..."] [--details]
// dotnet run -c Release --project MoltBot.Bench -- inference [threads]   (model benchmarks, InferenceBench.cs)
// dotnet run -c Release --project MoltBot.Bench -- inference memory [--requests N] [--generations G]   (flat-memory check, InferenceMemoryBench.cs)
// dotnet run -c Release --project MoltBot.Bench -- inference nlu [--runs 3] [--concurrency 64] [--policies student,teacher]   (issue 3's NLU target, NluThroughputBench.cs)
// dotnet run -c Release --project MoltBot.Bench -- memory [hnsw|eventlog|eventlog-open|profile|all] [options]   (MemoryBench.cs)
// dotnet run -c Release --project MoltBot.Bench -- [BenchmarkDotNet arguments, e.g. --filter *Pipeline*]
if (args.Length > 0 && args[0] == "load"
    && GeneratorProcess.ChildStartInfo(args, Environment.ProcessPath, typeof(LoadCommand).Assembly.Location, Environment.GetEnvironmentVariable) is { } generator)
{
    return await GeneratorProcess.RunChildAsync(generator);
}
if (args.Length > 0 && args[0] == "load" && Environment.GetEnvironmentVariable(GeneratorProcess.MarkerVariable) is not null)
    Console.Error.WriteLine("load: generator running with tiered PGO off (DOTNET_TieredPGO=0)");
if (args.Length > 0 && args[0] is "load" or "coldstart")
{
    // The load generator's socket completions run on the epoll thread instead of hopping to the thread pool: less of the
    // generator's CPU on the cores the server needs (read once, when the first socket is made). A child server started
    // by `load` does not inherit it (MoltBotServer.StartAsync): it runs as deployed.
    Environment.SetEnvironmentVariable(MoltBotServer.InlineCompletionsVariable, "1");
    return await LoadCommand.RunAsync(args);
}
if (args.Length > 0 && args[0] == "memory") return await MoltBot.Bench.MemoryBench.RunAsync(args[1..]);
if (args.Length > 1 && args[0] == "inference" && args[1] == "nlu") return await MoltBot.Bench.NluThroughputBench.RunAsync(args[2..]);
if (args.Length > 1 && args[0] == "inference" && args[1] == "memory") return await MoltBot.Bench.InferenceMemoryBench.RunAsync(args[2..]);
if (args.Length > 0 && args[0] == "inference")
{
    MoltBot.Bench.InferenceBench.Run(args[1..]);
    return 0;
}
BenchmarkSwitcher.FromAssembly(typeof(MoltBot.Bench.PipelineBenchmarks).Assembly).Run(args);
return 0;
