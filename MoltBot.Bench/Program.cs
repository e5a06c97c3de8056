using BenchmarkDotNet.Running;
using MoltBot.Bench.Load;

// dotnet run -c Release --project MoltBot.Bench -- load [--scenario S] [--connections 1,10,100] [--messages N] [--rate R]
// dotnet run -c Release --project MoltBot.Bench -- coldstart [--runs N]
// dotnet run -c Release --project MoltBot.Bench -- [BenchmarkDotNet arguments, e.g. --filter *Pipeline*]
if (args.Length > 0 && args[0] is "load" or "coldstart") return await LoadCommand.RunAsync(args);
BenchmarkSwitcher.FromAssembly(typeof(MoltBot.Bench.PipelineBenchmarks).Assembly).Run(args);
return 0;
