using MoltBot.Contracts.Inference;
namespace MoltBot.Dialog;

/// <summary>The dialog manager's own sentences, in English and Chinese.</summary>
internal static class DialogTexts
{
    public static bool IsChinese(string language) => language.StartsWith("zh", StringComparison.OrdinalIgnoreCase);

    public static string Cancelled(string lang) => IsChinese(lang) ? "好的，已取消。" : "OK, I've cancelled that.";

    public static string Remembered(string lang) => IsChinese(lang) ? "好的，我记住了。" : "Got it, I'll remember that.";

    public static string NoAnswer(string lang) => IsChinese(lang) ? "抱歉，我暂时回答不了这个问题。" : "Sorry, I don't have an answer to that.";

    public static string Resume(string lang, string question) => IsChinese(lang) ? $"回到你之前的请求：{question}" : $"Back to your earlier request: {question}";

    public static string AskSlot(string lang, string slot) => IsChinese(lang) ? $"请提供{slot}。" : $"What {slot.Replace('_', ' ')} should I use?";

    /// <summary>Quotes the user's own words for the request, which always read right (slot values alone often do not).</summary>
    public static string Confirm(string lang, string request) => IsChinese(lang)
        ? $"确认一下：“{request}”——要我去做吗？（是/否）"
        : $"Just to confirm: \"{request}\" — shall I go ahead? (yes/no)";

    public static string Canned(string lang, string intent, string? name)
    {
        bool zh = IsChinese(lang);
        string who = string.IsNullOrWhiteSpace(name) ? "" : (zh ? name : " " + name);
        return intent switch
        {
            Intents.Greet => zh ? $"你好{who}！我是 MoltBot，可以帮你查时间和天气、设置提醒、记住事情。有什么可以帮你？"
                                : $"Hi{who}! I'm MoltBot. I can tell the time and weather, set reminders and remember things for you. What can I do for you?",
            Intents.Goodbye => zh ? $"再见{who}，有需要随时找我！" : $"Goodbye{who}, talk to you soon!",
            _ => zh ? "不客气！还有什么需要帮忙的吗？" : "You're welcome! Anything else I can help with?",
        };
    }

    public static string SystemPrompt(string lang) => IsChinese(lang)
        ? "你是 MoltBot，一个乐于助人的助手。请用中文简洁地回答。"
        : "You are MoltBot, a helpful assistant. Answer briefly, in English.";

    public static string Profile(string lang, string? name, string? city, string? timeZone)
    {
        var parts = new List<string>();
        if (IsChinese(lang))
        {
            if (name is not null) parts.Add($"用户名字：{name}。");
            if (city is not null) parts.Add($"所在城市：{city}。");
            if (timeZone is not null) parts.Add($"时区：{timeZone}。");
        }
        else
        {
            if (name is not null) parts.Add($"The user's name is {name}.");
            if (city is not null) parts.Add($"They live in {city}.");
            if (timeZone is not null) parts.Add($"Their time zone is {timeZone}.");
        }
        return string.Join(" ", parts);
    }

    public static string MemoriesHeader(string lang) => IsChinese(lang) ? "用户之前告诉过你：" : "Things the user told you earlier:";
}
