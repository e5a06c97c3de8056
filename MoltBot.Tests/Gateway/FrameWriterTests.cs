using System.Text;
using System.Text.Json.Nodes;
using MoltBot.Gateway.Protocol;

namespace MoltBot.Tests.Gateway;

/// <summary>FrameWriter reuses one buffer and JSON writer per thread: every frame must still come out whole and alone.</summary>
public class FrameWriterTests
{
    private static JsonObject Parse(byte[] frame) => JsonNode.Parse(Encoding.UTF8.GetString(frame))!.AsObject();

    [Fact]
    public void Consecutive_frames_on_one_thread_are_independent()
    {
        var first = FrameWriter.Build("ack", 1, w => w.WriteString("id", "a"));
        var second = FrameWriter.Build("pong", 2, null);
        Assert.Equal("""{"type":"ack","seq":1,"id":"a"}""", Encoding.UTF8.GetString(first));
        Assert.Equal("""{"type":"pong","seq":2}""", Encoding.UTF8.GetString(second));
        Assert.Equal("""{"type":"hello"}""", Encoding.UTF8.GetString(FrameWriter.Build("hello", null, null)));
    }

    [Fact]
    public void A_body_that_throws_leaves_the_next_frame_intact()
    {
        Assert.Throws<InvalidOperationException>(() => FrameWriter.Build("reply.final", 7, w =>
        {
            w.WriteString("text", "half");
            throw new InvalidOperationException("body failed");
        }));
        Assert.Equal("""{"type":"ack","seq":8}""", Encoding.UTF8.GetString(FrameWriter.Build("ack", 8, null)));
    }

    [Fact]
    public void A_frame_built_inside_another_frames_body_gets_its_own_writer()
    {
        byte[]? inner = null;
        var outer = FrameWriter.Build("outer", 1, w =>
        {
            w.WriteString("before", "x");
            inner = FrameWriter.Build("inner", 2, v => v.WriteNumber("n", 3));
            w.WriteString("after", "y");
        });
        Assert.Equal("""{"type":"outer","seq":1,"before":"x","after":"y"}""", Encoding.UTF8.GetString(outer));
        Assert.Equal("""{"type":"inner","seq":2,"n":3}""", Encoding.UTF8.GetString(inner!));
    }

    [Fact]
    public void A_large_frame_then_a_small_one()
    {
        string big = new('x', 100_000);
        var large = Parse(FrameWriter.Build("history", 1, w => w.WriteString("text", big)));
        Assert.Equal(big, (string?)large["text"]);
        Assert.Equal("""{"type":"ack","seq":2}""", Encoding.UTF8.GetString(FrameWriter.Build("ack", 2, null)));
    }

    [Fact]
    public async Task Frames_built_on_many_threads_at_once_are_each_whole()
    {
        var frames = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() =>
            Enumerable.Range(0, 200).Select(j => FrameWriter.Build("reply.final", i * 1000 + j, w => w.WriteString("text", $"t{i}-{j}"))).ToList())));
        for (int i = 0; i < frames.Length; i++)
        {
            for (int j = 0; j < 200; j++)
            {
                var f = Parse(frames[i][j]);
                Assert.Equal(i * 1000 + j, (long)f["seq"]!);
                Assert.Equal($"t{i}-{j}", (string?)f["text"]);
            }
        }
    }
}
