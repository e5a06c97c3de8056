using Microsoft.Extensions.Logging.Abstractions;
using MoltBot.Channels.Common;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Tests.Channels;

public class OutboxTests
{
    private static OutboundMessage Reply(string id, string text) => new()
    {
        Kind = OutboundKind.Final, Platform = "slack", ConversationId = "C1", UserId = "U1", InReplyTo = id, Text = text,
    };

    [Fact]
    public async Task Pending_entries_and_sent_parts_survive_a_reopen_and_corrupt_lines_go_to_the_dead_letter_file()
    {
        string dir = Directory.CreateTempSubdirectory("moltbot-outbox").FullName;
        try
        {
            using (var outbox = new DurableOutbox(dir, "slack", 100, NullLogger.Instance))
            {
                await outbox.EnqueueAsync(Reply("a", "first"), CancellationToken.None);
                await outbox.EnqueueAsync(Reply("b", "second"), CancellationToken.None);
                await outbox.EnqueueAsync(Reply("c", "third"), CancellationToken.None);
                var a = await outbox.NextAsync(CancellationToken.None);
                outbox.MarkDone(a);
                var b = await outbox.NextAsync(CancellationToken.None);
                outbox.MarkPartsSent(b, 2);
            }
            File.AppendAllText(Path.Combine(dir, "slack-outbox.jsonl"), "{\"seq\":9,\"mess"); // torn write

            using (var reopened = new DurableOutbox(dir, "slack", 100, NullLogger.Instance))
            {
                Assert.Equal(2, reopened.Depth);
                var b = await reopened.NextAsync(CancellationToken.None);
                Assert.Equal("b", b.Message.InReplyTo);
                Assert.Equal(2, b.PartsSent); // resumes after the parts already delivered
                var c = await reopened.NextAsync(CancellationToken.None);
                Assert.Equal("c", c.Message.InReplyTo);
                await reopened.EnqueueAsync(Reply("d", "fourth"), CancellationToken.None);
                Assert.Equal("d", (await reopened.NextAsync(CancellationToken.None)).Message.InReplyTo);
            }
            Assert.Contains("corrupt outbox line", File.ReadAllText(Path.Combine(dir, "slack-deadletter.jsonl")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Seen_ids_survive_a_reopen_and_stay_bounded()
    {
        string dir = Directory.CreateTempSubdirectory("moltbot-seen").FullName;
        try
        {
            string path = Path.Combine(dir, "seen.txt");
            using (var seen = new SeenIdStore(path, 3, NullLogger.Instance))
            {
                for (int i = 0; i < 5; i++) Assert.True(seen.Add("id" + i));
                Assert.False(seen.Add("id4"));
            }
            using var reopened = new SeenIdStore(path, 3, NullLogger.Instance);
            Assert.Equal(3, reopened.Count);
            Assert.True(reopened.Contains("id4"));
            Assert.False(reopened.Contains("id0")); // the oldest were forgotten
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
