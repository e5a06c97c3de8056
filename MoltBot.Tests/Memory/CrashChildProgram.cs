using MoltBot.Contracts.Memory;

namespace MoltBot.Tests.Memory;

/// <summary>
/// The test assembly's entry point (GenerateProgramFile is off). `dotnet MoltBot.Tests.dll memory-crash-child DIR`
/// runs the memory module on DIR and records messages (through the conversation store: LiteDB, event log and, for
/// every other one, vector recall) from 32 concurrent writers forever, printing "ACK id" after each acknowledged one,
/// until the parent test kills the process.
/// </summary>
public static class CrashChildProgram
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length < 2 || args[0] != "memory-crash-child") return 0;
        var harness = await MemoryHarness.StartAsync(args[1]);
        var store = harness.Get<IConversationStore>();
        var embedder = new HashEmbedder();
        var output = Console.Out;
        Console.WriteLine("STARTED");
        await Task.WhenAll(Enumerable.Range(0, 32).Select(w => Task.Run(async () =>
        {
            for (int i = 0; ; i++)
            {
                string id = $"w{w}-{i}";
                bool inbound = i % 2 == 0;
                await store.RecordMessageAsync(new ConversationMessage(id, "web:crash" + w, "web:u" + w, inbound ? "in" : "out", id, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())
                {
                    Embedding = inbound ? embedder.Embed("crash test message " + id) : null,
                }, CancellationToken.None);
                lock (output) output.WriteLine("ACK " + id);
            }
        })));
        return 0;
    }
}
