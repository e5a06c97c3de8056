using MoltBot.Security;
using MoltBot.Security.Pii;

namespace MoltBot.Tests.Security;

/// <summary>
/// PiiDetector skips a detector when the text lacks a character every one of its matches contains ('@', a decimal
/// digit, two ':'). These texts sit right at those edges: each must still be found, and found once, as before.
/// </summary>
public class PiiDetectorScreenTests
{
    [Theory]
    // \d in the patterns is any Unicode decimal digit, so Arabic-Indic digits still make an IPv4 candidate.
    [InlineData("my box is at \u0663.\u0663.\u0663.\u0663 now", PiiTypes.Ip, "\u0663.\u0663.\u0663.\u0663")]
    // Exactly two colons, no digits at all.
    [InlineData("route via fe::ab please", PiiTypes.Ip, "fe::ab")]
    // The only '@' is the address's.
    [InlineData("write to bob@example.org today", PiiTypes.Email, "bob@example.org")]
    // A single digit-bearing candidate in otherwise digit-free text.
    [InlineData("call me on +44 20 7946 0958 tonight", PiiTypes.Phone, "+44 20 7946 0958")]
    // A secret needs neither digits nor '@' nor ':' (the secret detectors always run).
    [InlineData("the password = hunter-two-hunter-three, ok", PiiTypes.Secret, "hunter-two-hunter-three")]
    public void A_text_with_only_the_characters_one_detector_needs_is_still_found(string text, string type, string value)
    {
        var found = PiiDetector.Find(text);
        var match = Assert.Single(found);
        Assert.Equal(type, match.Type);
        Assert.Equal(value, match.Value);
        Assert.Equal(value, text.Substring(match.Start, match.Length));
    }

    [Theory]
    [InlineData("what time is it in Tokyo?")]
    [InlineData("remind me about the meeting")]
    [InlineData("")]
    public void Ordinary_chat_has_nothing_to_find(string text) => Assert.Empty(PiiDetector.Find(text));

    [Fact]
    public void Candidates_of_several_detectors_come_back_in_text_order_without_overlaps()
    {
        const string text = "ip 10.0.0.1, mail a@b.io, card 4111 1111 1111 1111";
        var found = PiiDetector.Find(text);
        Assert.Equal([PiiTypes.Ip, PiiTypes.Email, PiiTypes.Card], found.Select(m => m.Type));
        for (int i = 1; i < found.Count; i++) Assert.True(found[i - 1].End <= found[i].Start);
    }
}
