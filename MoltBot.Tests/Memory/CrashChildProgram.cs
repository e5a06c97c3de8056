using MoltBot.Contracts.Admin;
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
        bool turns = args.Length > 2 && args[2] == "turns";
        // Turns: held for at most 100 ms, so the kill finds buckets written and turns held.
        var harness = await MemoryHarness.StartAsync(args[1], turns ? new Dictionary<string, string?> { ["Memory:ConversationFlushMilliseconds"] = "100" } : null);
        var embedder = new HashEmbedder();
        if (turns) await WriteForeverAsync(TurnRecorder(harness, embedder));
        else await WriteForeverAsync(MessageRecorder(harness, embedder));
        return 0;
    }

    /// <summary>Every other message ("wN-i", one conversation per writer) inbound with a vector; "ACK id" for each.</summary>
    private static Func<int, int, Task<string[]>> MessageRecorder(MemoryHarness harness, HashEmbedder embedder)
    {
        var store = harness.Get<IConversationStore>();
        return async (w, i) =>
        {
            string id = $"w{w}-{i}";
            bool inbound = i % 2 == 0;
            await store.RecordMessageAsync(new ConversationMessage(id, "web:crash" + w, "web:u" + w, inbound ? "in" : "out", id, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())
            {
                Embedding = inbound ? embedder.Embed("crash test message " + id) : null,
            }, CancellationToken.None);
            return ["ACK " + id];
        };
    }

    /// <summary>
    /// "turns": each writer records turns (user message "wN-i" with a vector, reply "wN-i:out", one conversation per
    /// writer) as the dialog manager does, so LiteDB gets them as held buckets (TurnBuckets); "ACK id" for both messages.
    /// </summary>
    private static Func<int, int, Task<string[]>> TurnRecorder(MemoryHarness harness, HashEmbedder embedder)
    {
        var turns = harness.Get<ITurnRecorder>();
        return async (w, i) =>
        {
            string id = $"w{w}-{i}";
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            await turns.RecordTurnAsync(
                new ConversationMessage(id, "web:crash" + w, "web:u" + w, "in", id, now) { Embedding = embedder.Embed("crash test message " + id) },
                [],
                new ConversationMessage(id + ":out", "web:crash" + w, "web:u" + w, "out", id + ":out", now),
                CancellationToken.None);
            if (w != 0 || i != 10) return ["ACK " + id, "ACK " + id + ":out"];
            // A history read is a read barrier: every held turn is written as its bucket before it returns. So the kill
            // finds buckets written whatever the box's speed (the 100 ms timer alone may not have fired when 3,000 acks
            // are reached), while the other writers go on and leave turns held.
            await harness.Get<IConversationReader>().MessagesAsync("web:crash0", 1, CancellationToken.None);
            return ["ACK " + id, "ACK " + id + ":out", "FLUSHED"];
        };
    }

    /// <summary>32 writers call <paramref name="record"/>(writer, i) for i = 0, 1, … forever and print the lines it returns.</summary>
    private static async Task WriteForeverAsync(Func<int, int, Task<string[]>> record)
    {
        var output = Console.Out;
        Console.WriteLine("STARTED");
        await Task.WhenAll(Enumerable.Range(0, 32).Select(w => Task.Run(async () =>
        {
            for (int i = 0; ; i++)
            {
                var lines = await record(w, i);
                lock (output)
                {
                    foreach (var line in lines) output.WriteLine(line);
                }
            }
        })));
    }
}
