namespace MoltBot.Tests.Gateway;

/// <summary>
/// Frames are sent by whichever thread queued them while the socket is free (WebSocketConnection.SendQueued): the
/// receive loop (acks, pongs) and the pipeline (typing, deltas, finals) publish to one connection at the same time,
/// and every frame must still arrive once, complete, in sequence order.
/// </summary>
public class WebSocketSendTests
{
    [Fact]
    public async Task Frames_published_from_the_receive_loop_and_the_pipeline_at_once_arrive_once_each_in_seq_order()
    {
        const int messages = 150;
        var (host, _) = await GatewayFixture.StartAsync(new Dictionary<string, string>
        {
            ["Gateway:RatePerSecond"] = "10000",
            ["Gateway:RateBurst"] = "10000",
        });
        await using var _h = host;
        var (client, _, _) = await WsClient.OpenSessionAsync(GatewayFixture.WebSocketUri(host));
        await using var _c = client;

        // Everything goes out back to back: replies stream from the shard worker while the receive loop answers the
        // next send and ping frames.
        for (int i = 0; i < messages; i++)
        {
            await client.SendAsync(new { type = "send", id = "m" + i, text = "message " + i });
            await client.SendAsync(new { type = "ping", nonce = "p" + i });
        }

        var finals = new Dictionary<string, string>();
        var acks = new HashSet<string>();
        var pongs = new HashSet<string>();
        long lastSeq = 0;
        while (finals.Count < messages || pongs.Count < messages)
        {
            var frame = await client.ReceiveAsync();
            long seq = (long)frame["seq"]!;
            Assert.Equal(lastSeq + 1, seq); // nothing lost, nothing twice, nothing reordered
            lastSeq = seq;
            switch ((string)frame["type"]!)
            {
                case "ack": Assert.True(acks.Add((string)frame["id"]!)); break;
                case "pong": Assert.True(pongs.Add((string)frame["nonce"]!)); break;
                case "reply.final":
                    string replyTo = (string)frame["replyTo"]!;
                    Assert.True(acks.Contains(replyTo), $"reply.final for {replyTo} came before its ack");
                    finals.Add(replyTo, (string)frame["text"]!);
                    break;
            }
        }
        for (int i = 0; i < messages; i++) Assert.Equal("echo: message " + i, finals["m" + i]);
        Assert.Equal(messages, acks.Count);
    }
}
