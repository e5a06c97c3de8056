using MoltBot.Contracts.Inference;
using MoltBot.Inference.Models;
using MoltBot.Inference.Tokenization;

namespace MoltBot.Tests.Inference;

public class TokenizerTests
{
    [Fact]
    public void Byte_level_BPE_round_trips_text_applies_merges_and_keeps_special_tokens_whole()
    {
        string dir = TinyModels.TempDir("tok");
        TinyModels.WriteTokenizer(dir);
        var tok = TextTokenizer.Load(dir);
        Assert.Equal("bpe", tok.Kind);
        string text = "hello the weather in Zürich 😀";
        var ids = tok.Encode(text);
        Assert.Equal(text, tok.Decode(ids));
        Assert.Equal([261, 263, 111, 262], ids.Take(4)); // "he" "ll" "o" " the": merges are 260..265 after 4 specials
        var chat = tok.Encode("<|im_start|>user\nhi<|im_end|>");
        Assert.Equal(259, chat[0]);
        Assert.Equal(257, chat[^1]);
        Assert.Equal(257, tok.SpecialId("<|im_end|>"));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Chat_templates_render_ChatML_Llama3_and_Llama2()
    {
        ChatMessage[] msgs = [new("system", "Be brief."), new("user", "Hi"), new("assistant", "Hello!"), new("user", "Time?")];
        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nTime?<|im_end|>\n<|im_start|>assistant\n",
            ChatTemplate.For("chatml").Render(msgs));
        Assert.Equal("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nTime?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            ChatTemplate.For("llama3").Render(msgs));
        Assert.Equal("<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Time? [/INST]",
            ChatTemplate.For("llama2").Render(msgs));
    }

    [Fact]
    public void Chat_format_is_detected_from_config_tokenizer_config_or_family()
    {
        string dir = TinyModels.TempDir("tpl");
        var llama = TinyModels.Decoder() with { ChatFormat = null };
        Assert.Equal("llama2", ChatTemplate.Detect(dir, llama).Format);
        Assert.Equal("llama3", ChatTemplate.Detect(dir, llama with { VocabSize = 128_256 }).Format);
        Assert.Equal("chatml", ChatTemplate.Detect(dir, llama with { ModelType = "qwen2" }).Format);
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{\"chat_template\":\"{{'<|start_header_id|>'}}\"}");
        Assert.Equal("llama3", ChatTemplate.Detect(dir, llama).Format);
        Assert.Equal("chatml", ChatTemplate.Detect(dir, llama with { ChatFormat = "chatml" }).Format);
        Directory.Delete(dir, true);
    }
}
