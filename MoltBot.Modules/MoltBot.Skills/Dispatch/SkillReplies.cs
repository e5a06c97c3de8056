namespace MoltBot.Skills.Dispatch;

/// <summary>What the dispatcher says when a skill cannot answer, in the user's language. Never blames the user.</summary>
internal static class SkillReplies
{
    public static string Failed(string language, string skill) => language == "zh"
        ? $"抱歉，「{skill}」功能出了点问题，请稍后再试。"
        : $"Sorry, the {skill} skill ran into a problem. Please try again in a moment.";

    public static string TimedOut(string language, string skill) => language == "zh"
        ? $"抱歉，「{skill}」功能响应太慢了，请稍后再试。"
        : $"Sorry, the {skill} skill took too long to answer. Please try again in a moment.";

    public static string Busy(string language, string skill) => language == "zh"
        ? $"抱歉，「{skill}」功能现在太忙了，请稍后再试。"
        : $"Sorry, the {skill} skill is busy right now. Please try again in a moment.";

    public static string Unknown(string language, string skill) => language == "zh"
        ? $"抱歉，我现在没有「{skill}」这个功能。"
        : $"Sorry, I don't have a skill called {skill} right now.";

    public static string AskSlot(string language, string slot) => language == "zh"
        ? $"请告诉我{slot}。"
        : $"Could you tell me the {slot}?";
}
