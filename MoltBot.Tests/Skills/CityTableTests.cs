using MoltBot.Skills;

namespace MoltBot.Tests.Skills;

/// <summary>
/// CityTable.FindAll skips names whose first letter is absent from ASCII text: it must still find exactly what a
/// search of every name finds, in any case, in English, Chinese and mixed text.
/// </summary>
public class CityTableTests
{
    /// <summary>The unfiltered search: every name of every city, longest non-overlapping hits in text order.</summary>
    private static List<City> Reference(string text)
    {
        var hits = new List<(int Start, int Length, City City)>();
        foreach (var city in CityTable.All)
            foreach (var name in city.Aliases.Append(city.English).Append(city.Chinese))
                for (int at = text.IndexOf(name, StringComparison.OrdinalIgnoreCase); at >= 0 && name.Length > 0;
                     at = at + 1 <= text.Length - name.Length ? text.IndexOf(name, at + 1, StringComparison.OrdinalIgnoreCase) : -1)
                {
                    bool wordStart = !char.IsLetterOrDigit(name[0]) || TextMatch.IsCjk(name[0]) || at == 0 || !char.IsLetterOrDigit(text[at - 1]) || TextMatch.IsCjk(text[at - 1]);
                    int end = at + name.Length;
                    bool wordEnd = !char.IsLetterOrDigit(name[^1]) || TextMatch.IsCjk(name[^1]) || end == text.Length || !char.IsLetterOrDigit(text[end]) || TextMatch.IsCjk(text[end]);
                    if (wordStart && wordEnd) hits.Add((at, name.Length, city));
                }
        var chosen = new List<(int Start, int Length, City City)>();
        foreach (var hit in hits.OrderByDescending(h => h.Length).ThenBy(h => h.Start))
            if (!chosen.Any(c => hit.Start < c.Start + c.Length && c.Start < hit.Start + hit.Length)) chosen.Add(hit);
        return chosen.OrderBy(c => c.Start).Select(c => c.City).Distinct().ToList();
    }

    public static TheoryData<string> Texts()
    {
        var data = new TheoryData<string>
        {
            "/time", "", "what time is it?", "time in TOKYO and new york please", "what's the weather in sf vs rio",
            "北京现在几点", "上海和东京的时间", "time in São Paulo", "TIME IN SAO PAULO", "weather in Ürümqi or beijing",
            "ıstanbul time", "PEKING, canton, Los Angeles!", "los angelesx", "xtokyo", "Tokyo-Osaka",
        };
        foreach (var city in CityTable.All)
        {
            data.Add($"what time is it in {city.English.ToLowerInvariant()}?");
            data.Add($"WEATHER {city.English.ToUpperInvariant()} TOMORROW");
            data.Add(city.Chinese + "的天气");
            foreach (var alias in city.Aliases) data.Add($"time in {alias}");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public void FindAll_finds_what_a_search_of_every_name_finds(string text) =>
        Assert.Equal(Reference(text), CityTable.FindAll(text));
}
