using MoltBot.Contracts.Inference;
using MoltBot.Inference.Tokenization;
using MoltBot.Inference.Training.Corpus;

namespace MoltBot.Inference.Training.Lm;

/// <summary>
/// A dialog as one token sequence in the model's chat format, with a loss mask that is true on the assistant's
/// reply tokens (and the end-of-turn token): the model learns to answer, not to imitate users.
/// </summary>
public sealed record DialogSequence(int[] Ids, bool[] IsTarget)
{
    public static DialogSequence Encode(Dialog dialog, TextTokenizer tokenizer, ChatTemplate template, int maxLength)
    {
        string stop = template.StopStrings[0];
        var ids = new List<int>();
        var target = new List<bool>();
        string rendered = "";
        for (int k = 0; k < dialog.Messages.Count; k++)
        {
            if (dialog.Messages[k].Role != "assistant") continue;
            string prompt = template.Render(dialog.Messages.Take(k).ToList());
            // Each prompt extends the text so far (chat formats are append-only); tokenize only the new part.
            string newPrompt = prompt.StartsWith(rendered, StringComparison.Ordinal) ? prompt[rendered.Length..] : prompt;
            Append(tokenizer.Encode(newPrompt), false);
            string reply = dialog.Messages[k].Content + stop;
            Append(tokenizer.Encode(reply), true);
            rendered = prompt + reply;
        }
        if (ids.Count > maxLength)
        {
            ids.RemoveRange(maxLength, ids.Count - maxLength);
            target.RemoveRange(maxLength, target.Count - maxLength);
        }
        return new DialogSequence(ids.ToArray(), target.ToArray());

        void Append(IReadOnlyList<int> toks, bool isTarget)
        {
            ids.AddRange(toks);
            target.AddRange(Enumerable.Repeat(isTarget, toks.Count));
        }
    }

    /// <summary>The prompt for the assistant turn at <paramref name="assistantIndex"/> (everything before it).</summary>
    public static IReadOnlyList<int> Prompt(IReadOnlyList<ChatMessage> messages, int assistantIndex, TextTokenizer tokenizer, ChatTemplate template) =>
        tokenizer.Encode(template.Render(messages.Take(assistantIndex).ToList()));
}
