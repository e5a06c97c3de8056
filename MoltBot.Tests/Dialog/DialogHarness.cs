using Microsoft.Extensions.Configuration;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Memory;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.Contracts.Skills;
using MoltBot.Dialog;
using MoltBot.Tests.Memory;

namespace MoltBot.Tests.Dialog;

/// <summary>The dialog module over the real memory module (LiteDB in a temp dir) with fake NLU, skills and generator.</summary>
public sealed class DialogHarness : IAsyncDisposable
{
    private int _messageNo;

    private DialogHarness(MemoryHarness memory, FakeClock clock, FakeSkills skills, FakeGenerator generator, RecordingObserver observer, FakeNlu nlu)
    {
        Nlu = nlu;
        Memory = memory;
        Clock = clock;
        Skills = skills;
        Generator = generator;
        Observer = observer;
    }

    public MemoryHarness Memory { get; }
    public FakeClock Clock { get; }
    public FakeNlu Nlu { get; }
    public FakeSkills Skills { get; }
    public FakeGenerator Generator { get; }
    public RecordingObserver Observer { get; }
    public IMessageHandler Handler => Memory.Get<IMessageHandler>();

    public static async Task<DialogHarness> StartAsync(IDictionary<string, string?>? settings = null, string? root = null, FakeClock? clock = null)
    {
        clock ??= new FakeClock();
        var skills = new FakeSkills();
        var generator = new FakeGenerator();
        var observer = new RecordingObserver();
        var nlu = new FakeNlu(new HashEmbedder());
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        var memory = await MemoryHarness.StartAsync(root, settings, clock, services =>
        {
            services.AddSingleton<INluEngine>(nlu);
            services.AddSingleton<ISkillDispatcher>(skills);
            services.AddSingleton<ITextGenerator>(generator);
            services.AddSingleton<IPipelineObserver>(observer);
            services.AddMoltBotDialog(config);
        });
        return new DialogHarness(memory, clock, skills, generator, observer, nlu);
    }

    /// <summary>One user turn, one second after the previous one.</summary>
    public Task<RecordingReply> SayAsync(string text, string user = "u1", string conversation = "c1", string? displayName = "Ann") =>
        SayAsync(new RecordingReply(), text, user, conversation, displayName);

    /// <summary>One user turn answered into <paramref name="reply"/>.</summary>
    public async Task<T> SayAsync<T>(T reply, string text, string user = "u1", string conversation = "c1", string? displayName = "Ann") where T : RecordingReply
    {
        Clock.Advance(TimeSpan.FromSeconds(1));
        var envelope = new Envelope
        {
            Id = $"msg-{++_messageNo}-{Guid.NewGuid():N}", Platform = Platforms.Web, ConversationId = conversation, UserId = user,
            UserDisplayName = displayName, Text = text, TimestampMs = Clock.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        await Handler.HandleAsync(envelope, reply, CancellationToken.None);
        Assert.True(reply.Completed, "the dialog manager must always write a final reply");
        return reply;
    }

    public async Task<DialogState?> StateAsync(string conversation = "c1") =>
        await Memory.Get<IDialogStateStore>().GetAsync("web:" + conversation, CancellationToken.None);

    public async Task<IReadOnlyList<LoggedEvent>> EventsAsync(string conversation = "c1") =>
        await Memory.Get<IEventLog>().RangeAsync("web:" + conversation, 0, long.MaxValue / 2, 10_000, CancellationToken.None);

    public async Task StopKeepingDataAsync() => await Memory.RestartableStopAsync();

    public async ValueTask DisposeAsync() => await Memory.DisposeAsync();
}
