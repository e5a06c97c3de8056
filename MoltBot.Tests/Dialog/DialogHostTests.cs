using System.Net;
using System.Threading.Channels;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.Contracts.Skills;
using MoltBot.Tests.Memory;

namespace MoltBot.Tests.Dialog;

/// <summary>The whole host (real Kestrel, pipeline, dialog, memory on a LiteDB file) with fake NLU, skills and generator.</summary>
public class DialogHostTests
{
    [Fact]
    public async Task Messages_flow_through_the_pipeline_into_the_dialog_and_memory_and_readiness_reports_storage()
    {
        var adapter = new CapturingAdapter();
        await using var host = await TestHost.StartAsync(configure: b =>
        {
            b.Services.AddSingleton<ISentenceEmbedder>(new HashEmbedder());
            b.Services.AddSingleton<INluEngine>(new FakeNlu(new HashEmbedder()));
            b.Services.AddSingleton<ISkillDispatcher>(new FakeSkills());
            b.Services.AddSingleton<ITextGenerator>(new FakeGenerator());
            b.Services.AddSingleton<IChannelAdapter>(adapter);
        });
        using var client = host.CreateClient();
        var ready = await client.GetAsync("/readyz");
        string body = await ready.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"storage\"", body);

        var inbound = host.Services.GetRequiredService<IInboundQueue>();
        await inbound.EnqueueAsync(new Envelope { Id = "e1", Platform = CapturingAdapter.Name, ConversationId = "c1", UserId = "u1", Text = "remind me to call mom" }, CancellationToken.None);
        var first = await adapter.NextFinalAsync();
        Assert.Equal("When should I remind you?", first.Text);

        await inbound.EnqueueAsync(new Envelope { Id = "e2", Platform = CapturingAdapter.Name, ConversationId = "c1", UserId = "u1", Text = "at 5pm" }, CancellationToken.None);
        Assert.Contains("shall I go ahead?", (await adapter.NextFinalAsync()).Text);
        Assert.True(File.Exists(Path.Combine(host.DataDirectory, "memory", "moltbot.db")));
    }

    private sealed class CapturingAdapter : IChannelAdapter
    {
        public const string Name = "dialogtest";
        private readonly Channel<OutboundMessage> _finals = Channel.CreateBounded<OutboundMessage>(100);

        public string Platform => Name;
        public ChannelState State => ChannelState.Connected;

        public ValueTask SendAsync(OutboundMessage message, CancellationToken cancellationToken) =>
            message.Kind is OutboundKind.Final or OutboundKind.Error ? _finals.Writer.WriteAsync(message, cancellationToken) : ValueTask.CompletedTask;

        public async Task<OutboundMessage> NextFinalAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            return await _finals.Reader.ReadAsync(timeout.Token);
        }
    }
}
