using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Admin;
using MoltBot.Gateway;

namespace MoltBot.Tests.Gateway;

/// <summary>
/// Gateway:HistoryTotalBytes bounds the history all conversations keep in the gateway's memory together: the least
/// recently used conversation is forgotten whole, and its history frame is then answered from the memory module's
/// store (here a fixed reader standing in for it), with real WebSocket clients on the whole host.
/// </summary>
public class HistoryBudgetTests
{
    private const int Budget = 65_536;

    [Fact]
    public async Task The_least_recently_used_conversation_is_forgotten_whole_and_read_from_the_store()
    {
        var stored = new StoredMessage("m-old", "web:alice", "web:alice", "in", "stored by the memory module", 1_000);
        var (host, _) = await GatewayFixture.StartAsync(
            new Dictionary<string, string> { ["Gateway:HistoryTotalBytes"] = Budget.ToString() },
            b => b.Services.AddSingleton<IConversationReader>(new FixedReader([stored])));
        await using var _h = host;
        var history = host.Services.GetRequiredService<ConversationHistory>();
        var uri = GatewayFixture.WebSocketUri(host);

        var (alice, _, _) = await WsClient.OpenSessionAsync(uri, "alice");
        await using var _a = alice;
        await alice.SendAsync(new { type = "send", id = "a1", text = "hello from alice" });
        await alice.ReceiveUntilAsync("reply.final");
        Assert.Equal(["hello from alice", "echo: hello from alice"], await HistoryTexts(alice));

        // Bob's four long exchanges (≈ 4 × 2 × 14 KB) are more than the whole budget.
        var (bob, _, _) = await WsClient.OpenSessionAsync(uri, "bob");
        await using var _b = bob;
        string[] texts = ["a", "b", "c", "d"];
        foreach (var letter in texts)
        {
            await bob.SendAsync(new { type = "send", id = letter, text = new string(letter[0], 7_000) });
            await bob.ReceiveUntilAsync("reply.final");
        }

        Assert.InRange(history.HeldBytes, 1, Budget);
        // Alice's conversation went whole: her history now comes from the store, not half from the gateway.
        Assert.Equal(["stored by the memory module"], await HistoryTexts(alice));
        // Bob's newest exchange is still held.
        var bobs = await HistoryTexts(bob);
        Assert.Equal(["echo: " + new string('d', 7_000)], bobs.TakeLast(1));
        Assert.True(bobs.Count < 2 * texts.Length, $"{bobs.Count} messages held for bob");
    }

    [Fact]
    public void Counted_bytes_follow_adds_removals_and_the_per_conversation_bound()
    {
        var history = new ConversationHistory(Options.Create(new GatewayOptions { HistoryPerConversation = 2, HistoryTotalBytes = Budget }));
        HistoryEntry Entry(string id, string text) => new(id, "in", "web:u", text, 1);
        history.Add("web", "u", Entry("1", "one"));
        history.Add("web", "u", Entry("2", "two"));
        history.Add("web", "u", Entry("3", "three"));
        Assert.Equal(ConversationHistory.SizeOf(Entry("2", "two")) + ConversationHistory.SizeOf(Entry("3", "three")), history.HeldBytes);
        history.Remove("web", "u", "3");
        Assert.Equal(ConversationHistory.SizeOf(Entry("2", "two")), history.HeldBytes);
        Assert.Equal(["two"], history.Last("web", "u", 10).Select(e => e.Text));
    }

    private static async Task<List<string>> HistoryTexts(WsClient client)
    {
        await client.SendAsync(new { type = "history", limit = 50 });
        var frame = await client.ReceiveAsync();
        Assert.Equal("history", (string?)frame["type"]);
        return frame["messages"]!.AsArray().Select(m => (string)m!["text"]!).ToList();
    }

    private sealed class FixedReader(IReadOnlyList<StoredMessage> messages) : IConversationReader
    {
        public Task<IReadOnlyList<ConversationSummary>> ListAsync(int skip, int take, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<ConversationSummary>>([]);

        public Task<IReadOnlyList<StoredMessage>> MessagesAsync(string conversationKey, int take, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<StoredMessage>>(messages.Where(m => m.ConversationKey == conversationKey).Take(take).ToList());
    }
}
