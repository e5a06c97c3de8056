using System.Text.RegularExpressions;
using MoltBot.Gateway;
using MoltBot.Tests.Memory;

namespace MoltBot.Tests.Gateway;

/// <summary>Gateway message ids: the documented "gw_" + 24 hex form, unique, and ordered by issue time (LiteDB's key order).</summary>
public partial class MessageIdGeneratorTests
{
    [Fact]
    public void Ids_keep_their_form_and_sort_in_the_order_they_were_issued_even_within_one_millisecond_and_across_threads()
    {
        var clock = new FakeClock();
        var ids = new MessageIdGenerator(clock);
        var issued = new List<string>();
        for (int i = 0; i < 5_000; i++) issued.Add(ids.Next()); // the clock stands still: the same millisecond
        clock.Advance(TimeSpan.FromMilliseconds(1));
        issued.Add(ids.Next());
        clock.Advance(TimeSpan.FromMinutes(-5)); // a clock stepped back must not reorder ids
        issued.Add(ids.Next());

        Assert.All(issued, id => Assert.Matches(Form(), id));
        Assert.Equal(issued, issued.OrderBy(x => x, StringComparer.Ordinal));
        Assert.Equal(issued.Count, issued.Distinct().Count());

        var parallel = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 20_000, _ => parallel.Add(ids.Next()));
        Assert.Equal(20_000, parallel.Distinct().Count());
        Assert.True(parallel.All(id => string.CompareOrdinal(id, issued[^1]) > 0));
    }

    [Fact]
    public void Ids_of_a_later_millisecond_sort_after_and_their_random_part_differs()
    {
        var clock = new FakeClock();
        var ids = new MessageIdGenerator(clock);
        string first = ids.Next();
        clock.Advance(TimeSpan.FromMilliseconds(1));
        string second = ids.Next();
        Assert.True(string.CompareOrdinal(first, second) < 0);
        // Time part: Unix ms × 4096 in 16 hex digits.
        Assert.Equal(clock.GetUtcNow().ToUnixTimeMilliseconds() << 12, Convert.ToInt64(second[3..19], 16));
        var randomParts = Enumerable.Range(0, 50).Select(_ => ids.Next()[19..]).ToHashSet();
        Assert.True(randomParts.Count > 45, "the last 8 digits are random");
    }

    [GeneratedRegex("^gw_[0-9a-f]{24}$")]
    private static partial Regex Form();
}
