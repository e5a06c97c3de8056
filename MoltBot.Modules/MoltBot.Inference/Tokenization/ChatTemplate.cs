using System.Text;
using MoltBot.Contracts.Inference;
using MoltBot.Inference.Models;

namespace MoltBot.Inference.Tokenization;

/// <summary>
/// Turns chat messages into the prompt text a model was trained on. Three formats cover the supported families:
/// ChatML (Qwen2, SmolLM2, our own models), Llama 3 (header ids + eot) and Llama 2 / Mistral ([INST] ... [/INST]).
/// </summary>
public sealed class ChatTemplate
{
    public const string ChatMl = "chatml";
    public const string Llama3 = "llama3";
    public const string Llama2 = "llama2";

    private ChatTemplate(string format) => Format = format;

    public string Format { get; }

    /// <summary>Strings that end the assistant's turn (also matched as special token ids by the generator).</summary>
    public IReadOnlyList<string> StopStrings => Format switch
    {
        Llama3 => ["<|eot_id|>", "<|end_of_text|>"],
        Llama2 => ["</s>"],
        _ => ["<|im_end|>", "<|endoftext|>"],
    };

    public static ChatTemplate For(string format) => format switch
    {
        ChatMl or Llama3 or Llama2 => new ChatTemplate(format),
        _ => throw new ArgumentException($"unknown chat format '{format}' (chatml, llama3, llama2)"),
    };

    /// <summary>
    /// Chooses the format: config.json "moltbot_chat_format" if set; else the markers in tokenizer_config.json's
    /// chat_template; else by model family (qwen2 → ChatML, llama with a 128k vocabulary → Llama 3, llama/mistral → Llama 2).
    /// </summary>
    public static ChatTemplate Detect(string folder, DecoderConfig config)
    {
        if (config.ChatFormat is { } explicitFormat) return For(explicitFormat);
        string tc = Path.Combine(folder, "tokenizer_config.json");
        if (File.Exists(tc))
        {
            string text = File.ReadAllText(tc);
            if (text.Contains("<|im_start|>", StringComparison.Ordinal)) return For(ChatMl);
            if (text.Contains("<|start_header_id|>", StringComparison.Ordinal)) return For(Llama3);
            if (text.Contains("[INST]", StringComparison.Ordinal)) return For(Llama2);
        }
        return config.ModelType switch
        {
            "qwen2" => For(ChatMl),
            "llama" when config.VocabSize >= 128_000 => For(Llama3),
            "llama" or "mistral" => For(Llama2),
            _ => For(ChatMl),
        };
    }

    /// <summary>The prompt for <paramref name="messages"/>, ending where the assistant's reply begins.</summary>
    public string Render(IReadOnlyList<ChatMessage> messages)
    {
        var sb = new StringBuilder();
        switch (Format)
        {
            case Llama3:
                sb.Append("<|begin_of_text|>");
                foreach (var m in messages) sb.Append("<|start_header_id|>").Append(m.Role).Append("<|end_header_id|>\n\n").Append(m.Content.Trim()).Append("<|eot_id|>");
                sb.Append("<|start_header_id|>assistant<|end_header_id|>\n\n");
                break;
            case Llama2:
                RenderLlama2(messages, sb);
                break;
            default:
                foreach (var m in messages) sb.Append("<|im_start|>").Append(m.Role).Append('\n').Append(m.Content).Append("<|im_end|>\n");
                sb.Append("<|im_start|>assistant\n");
                break;
        }
        return sb.ToString();
    }

    /// <summary>Llama 2: the system prompt goes inside the first [INST] between &lt;&lt;SYS&gt;&gt; markers.</summary>
    private static void RenderLlama2(IReadOnlyList<ChatMessage> messages, StringBuilder sb)
    {
        string? system = messages.FirstOrDefault(m => m.Role == "system")?.Content;
        bool first = true;
        foreach (var m in messages.Where(m => m.Role != "system"))
        {
            if (m.Role == "user")
            {
                sb.Append("<s>[INST] ");
                if (first && system is not null) sb.Append("<<SYS>>\n").Append(system).Append("\n<</SYS>>\n\n");
                sb.Append(m.Content.Trim()).Append(" [/INST]");
                first = false;
            }
            else
            {
                sb.Append(' ').Append(m.Content.Trim()).Append(" </s>");
            }
        }
    }
}
