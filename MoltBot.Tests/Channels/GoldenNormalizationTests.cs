using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using MoltBot.Channels.Discord;
using MoltBot.Channels.IMessage;
using MoltBot.Channels.Slack;
using MoltBot.Channels.Telegram;
using MoltBot.Channels.WhatsApp;
using MoltBot.Contracts.Messaging;
using Telegram.Bot;
using Telegram.Bot.Types;

namespace MoltBot.Tests.Channels;

public static class GoldenFiles
{
    public static string Directory { get; } = Path.Combine(RepoRoot.Path, "MoltBot.Tests", "Channels", "Golden");
}

/// <summary>
/// Each sample payload (Golden/{platform}/{case}.json, in the platform's documented shape) must normalize to exactly
/// {case}.expected.json. A missing expected file is written and the test fails, so a new sample is reviewed once.
/// </summary>
public class GoldenNormalizationTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var dir in System.IO.Directory.GetDirectories(GoldenFiles.Directory).Order())
        {
            foreach (var file in System.IO.Directory.GetFiles(dir, "*.json").Where(f => !f.EndsWith(".expected.json", StringComparison.Ordinal)).Order())
            {
                data.Add(Path.GetFileName(dir), Path.GetFileNameWithoutExtension(file));
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Sample_payload_normalizes_to_the_golden_envelope(string platform, string name)
    {
        string input = File.ReadAllText(Path.Combine(GoldenFiles.Directory, platform, name + ".json"));
        object result = Normalize(platform, input);
        string actual = JsonSerializer.Serialize(result, Json).Replace("\r\n", "\n") + "\n";
        string expectedPath = Path.Combine(GoldenFiles.Directory, platform, name + ".expected.json");
        if (!File.Exists(expectedPath))
        {
            File.WriteAllText(expectedPath, actual);
            Assert.Fail($"{expectedPath} did not exist; it was written from the current output: review it and commit it.");
        }
        Assert.Equal(File.ReadAllText(expectedPath).Replace("\r\n", "\n"), actual);
    }

    [Fact]
    public void Every_platform_has_golden_samples_for_its_message_types()
    {
        var cases = Cases().Select(c => ((string)c[0], (string)c[1])).ToList();
        foreach (var p in new[] { "whatsapp", "telegram", "discord", "slack", "imessage" })
        {
            Assert.True(cases.Count(c => c.Item1 == p) >= 5, $"{p} needs golden samples for each message type");
        }
    }

    /// <summary>The envelope without Raw (checked separately: it must hold the platform payload).</summary>
    private static object Strip(Envelope? e)
    {
        if (e is null) return "ignored: not a user message";
        Assert.False(string.IsNullOrEmpty(e.Raw), "the raw payload is kept for debugging");
        return e with { Raw = null };
    }

    private static object Normalize(string platform, string input)
    {
        using var doc = JsonDocument.Parse(input);
        var root = doc.RootElement;
        switch (platform)
        {
            case "whatsapp":
                var (messages, statuses) = WhatsAppNormalizer.Normalize(root);
                return new { envelopes = messages.Select(Strip).ToArray(), statuses };
            case "telegram":
                var update = JsonSerializer.Deserialize<Update>(input, JsonBotAPI.Options)!;
                return new { envelope = Strip(TelegramNormalizer.Normalize(update, "123456")) };
            case "discord":
                return new { envelope = Strip(DiscordNormalizer.Normalize(root.GetProperty("t").GetString()!, root.GetProperty("d"), "BOT")) };
            case "slack":
                string type = root.GetProperty("type").GetString()!;
                var payload = root.GetProperty("payload");
                return new
                {
                    envelope = Strip(type == "slash_commands"
                        ? SlackNormalizer.FromSlashCommand(payload, root.GetProperty("envelope_id").GetString()!)
                        : SlackNormalizer.FromEventsApi(payload)),
                };
            case "imessage":
                return new { envelope = Strip(BlueBubblesNormalizer.Normalize(root)) };
            default:
                throw new InvalidOperationException("unknown platform folder " + platform);
        }
    }
}
