using System.Text.Json;
using MoltBot.Contracts.Memory;
using MoltBot.Memory;

namespace MoltBot.Tests.Memory;

/// <summary>
/// The dialog state (build-time JSON metadata) and a message's intent line (written directly) produce exactly what the
/// reflection serializer produced, so files written before read back and files written now read the same.
/// </summary>
public class MemoryJsonTests
{
    private static readonly JsonSerializerOptions ReflectionWeb = new(JsonSerializerDefaults.Web)
    {
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };

    [Theory]
    [InlineData("greeting", "en")]
    [InlineData("reminder_create", null)]
    [InlineData("weather \"quoted\" <tag> & ü", "zh")]
    [InlineData("", "")]
    public void The_intent_line_is_what_the_reflection_serializer_wrote(string intent, string? language)
    {
        Assert.Equal(JsonSerializer.Serialize(new { intent, language }), ConversationStore.IntentJson(intent, language));
    }

    [Fact]
    public void Dialog_state_json_matches_the_reflection_serializer_and_round_trips()
    {
        var state = new DialogState("web:c1", "web:u1")
        {
            ActiveIntent = "reminder_create",
            SkillId = "reminders",
            FilledSlots = new Dictionary<string, string> { ["time"] = "8pm", ["text"] = "call mum" },
            MissingSlots = ["date"],
            PendingQuestion = "Which day?",
            PendingSlot = "date",
            AwaitingConfirmation = true,
            Suspended = new DialogState("web:c1", "web:u1") { ActiveIntent = "weather", LastActivityMs = 3 },
            Language = "de",
            LastActivityMs = 1_700_000_000_000,
            UpdatedMs = 1_700_000_000_001,
        };
        string json = JsonSerializer.Serialize(state, DialogStateStore.Json);
        Assert.Equal(JsonSerializer.Serialize(state, ReflectionWeb), json);

        var back = JsonSerializer.Deserialize<DialogState>(json, DialogStateStore.Json)!;
        Assert.Equal(state.FilledSlots, back.FilledSlots);
        Assert.Equal(state.MissingSlots, back.MissingSlots);
        Assert.Equal("weather", back.Suspended!.ActiveIntent);
        Assert.Equal(state with { FilledSlots = back.FilledSlots, MissingSlots = back.MissingSlots, Suspended = back.Suspended }, back);
        // A state written by the reflection serializer (older files) reads back the same.
        Assert.Equal(json, JsonSerializer.Serialize(JsonSerializer.Deserialize<DialogState>(JsonSerializer.Serialize(state, ReflectionWeb), DialogStateStore.Json), DialogStateStore.Json));
    }
}
