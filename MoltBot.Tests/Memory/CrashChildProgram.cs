using MoltBot.Contracts.Memory;

namespace MoltBot.Tests.Memory;

/// <summary>
/// The test assembly's entry point (GenerateProgramFile is off). `dotnet MoltBot.Tests.dll memory-crash-child DIR`
/// runs the memory module on DIR and appends events from 32 concurrent writers forever, printing "ACK id" after each
/// acknowledged append, until the parent test kills the process.
/// </summary>
public static class CrashChildProgram
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length < 2 || args[0] != "memory-crash-child") return 0;
        var harness = await MemoryHarness.StartAsync(args[1]);
        var log = harness.Get<IEventLog>();
        var output = Console.Out;
        Console.WriteLine("STARTED");
        await Task.WhenAll(Enumerable.Range(0, 32).Select(w => Task.Run(async () =>
        {
            for (int i = 0; ; i++)
            {
                string id = $"w{w}-{i}";
                await log.AppendAsync(new LoggedEvent("web:crash" + w, "web:u" + w, EventKinds.MessageIn, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), id), CancellationToken.None);
                lock (output) output.WriteLine("ACK " + id);
            }
        })));
        return 0;
    }
}
