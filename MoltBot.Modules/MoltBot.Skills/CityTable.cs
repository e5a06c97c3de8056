namespace MoltBot.Skills;

/// <summary>A city the time and weather skills know by name: English name (for geocoding), Chinese name, IANA zone.</summary>
internal sealed record City(string English, string Chinese, string TimeZone, params string[] Aliases);

/// <summary>
/// City → IANA zone table (about 90 cities, English and Chinese names). Geocoding APIs need a name they know, and
/// time questions need no network at all, so the common cities ship with MoltBot.
/// </summary>
internal static class CityTable
{
    public static readonly IReadOnlyList<City> All =
    [
        new("Beijing", "北京", "Asia/Shanghai", "peking"),
        new("Shanghai", "上海", "Asia/Shanghai"),
        new("Guangzhou", "广州", "Asia/Shanghai", "canton"),
        new("Shenzhen", "深圳", "Asia/Shanghai"),
        new("Hangzhou", "杭州", "Asia/Shanghai"),
        new("Chengdu", "成都", "Asia/Shanghai"),
        new("Chongqing", "重庆", "Asia/Shanghai"),
        new("Wuhan", "武汉", "Asia/Shanghai"),
        new("Xi'an", "西安", "Asia/Shanghai", "xian"),
        new("Nanjing", "南京", "Asia/Shanghai"),
        new("Tianjin", "天津", "Asia/Shanghai"),
        new("Suzhou", "苏州", "Asia/Shanghai"),
        new("Harbin", "哈尔滨", "Asia/Shanghai"),
        new("Kunming", "昆明", "Asia/Shanghai"),
        new("Urumqi", "乌鲁木齐", "Asia/Urumqi"),
        new("Lhasa", "拉萨", "Asia/Shanghai"),
        new("Hong Kong", "香港", "Asia/Hong_Kong", "hongkong"),
        new("Macau", "澳门", "Asia/Macau", "macao"),
        new("Taipei", "台北", "Asia/Taipei"),
        new("Tokyo", "东京", "Asia/Tokyo"),
        new("Osaka", "大阪", "Asia/Tokyo"),
        new("Kyoto", "京都", "Asia/Tokyo"),
        new("Seoul", "首尔", "Asia/Seoul"),
        new("Busan", "釜山", "Asia/Seoul"),
        new("Singapore", "新加坡", "Asia/Singapore"),
        new("Kuala Lumpur", "吉隆坡", "Asia/Kuala_Lumpur"),
        new("Bangkok", "曼谷", "Asia/Bangkok"),
        new("Hanoi", "河内", "Asia/Bangkok"),
        new("Ho Chi Minh City", "胡志明市", "Asia/Ho_Chi_Minh", "saigon"),
        new("Jakarta", "雅加达", "Asia/Jakarta"),
        new("Manila", "马尼拉", "Asia/Manila"),
        new("Mumbai", "孟买", "Asia/Kolkata", "bombay"),
        new("New Delhi", "新德里", "Asia/Kolkata", "delhi"),
        new("Bangalore", "班加罗尔", "Asia/Kolkata", "bengaluru"),
        new("Karachi", "卡拉奇", "Asia/Karachi"),
        new("Dhaka", "达卡", "Asia/Dhaka"),
        new("Kathmandu", "加德满都", "Asia/Kathmandu"),
        new("Dubai", "迪拜", "Asia/Dubai"),
        new("Abu Dhabi", "阿布扎比", "Asia/Dubai"),
        new("Doha", "多哈", "Asia/Qatar"),
        new("Riyadh", "利雅得", "Asia/Riyadh"),
        new("Tehran", "德黑兰", "Asia/Tehran"),
        new("Tel Aviv", "特拉维夫", "Asia/Jerusalem"),
        new("Jerusalem", "耶路撒冷", "Asia/Jerusalem"),
        new("Istanbul", "伊斯坦布尔", "Europe/Istanbul"),
        new("Moscow", "莫斯科", "Europe/Moscow"),
        new("Saint Petersburg", "圣彼得堡", "Europe/Moscow", "st petersburg"),
        new("London", "伦敦", "Europe/London"),
        new("Dublin", "都柏林", "Europe/Dublin"),
        new("Edinburgh", "爱丁堡", "Europe/London"),
        new("Paris", "巴黎", "Europe/Paris"),
        new("Berlin", "柏林", "Europe/Berlin"),
        new("Munich", "慕尼黑", "Europe/Berlin", "münchen"),
        new("Frankfurt", "法兰克福", "Europe/Berlin"),
        new("Hamburg", "汉堡", "Europe/Berlin"),
        new("Zurich", "苏黎世", "Europe/Zurich", "zürich"),
        new("Geneva", "日内瓦", "Europe/Zurich"),
        new("Vienna", "维也纳", "Europe/Vienna"),
        new("Amsterdam", "阿姆斯特丹", "Europe/Amsterdam"),
        new("Brussels", "布鲁塞尔", "Europe/Brussels"),
        new("Madrid", "马德里", "Europe/Madrid"),
        new("Barcelona", "巴塞罗那", "Europe/Madrid"),
        new("Lisbon", "里斯本", "Europe/Lisbon"),
        new("Rome", "罗马", "Europe/Rome"),
        new("Milan", "米兰", "Europe/Rome"),
        new("Athens", "雅典", "Europe/Athens"),
        new("Prague", "布拉格", "Europe/Prague"),
        new("Warsaw", "华沙", "Europe/Warsaw"),
        new("Stockholm", "斯德哥尔摩", "Europe/Stockholm"),
        new("Oslo", "奥斯陆", "Europe/Oslo"),
        new("Copenhagen", "哥本哈根", "Europe/Copenhagen"),
        new("Helsinki", "赫尔辛基", "Europe/Helsinki"),
        new("Kyiv", "基辅", "Europe/Kyiv", "kiev"),
        new("Cairo", "开罗", "Africa/Cairo"),
        new("Lagos", "拉各斯", "Africa/Lagos"),
        new("Nairobi", "内罗毕", "Africa/Nairobi"),
        new("Johannesburg", "约翰内斯堡", "Africa/Johannesburg"),
        new("Cape Town", "开普敦", "Africa/Johannesburg"),
        new("New York", "纽约", "America/New_York", "nyc", "new york city"),
        new("Washington", "华盛顿", "America/New_York", "washington dc"),
        new("Boston", "波士顿", "America/New_York"),
        new("Miami", "迈阿密", "America/New_York"),
        new("Toronto", "多伦多", "America/Toronto"),
        new("Montreal", "蒙特利尔", "America/Toronto"),
        new("Chicago", "芝加哥", "America/Chicago"),
        new("Houston", "休斯顿", "America/Chicago"),
        new("Dallas", "达拉斯", "America/Chicago"),
        new("Denver", "丹佛", "America/Denver"),
        new("Phoenix", "菲尼克斯", "America/Phoenix"),
        new("Los Angeles", "洛杉矶", "America/Los_Angeles"),
        new("San Francisco", "旧金山", "America/Los_Angeles", "sf"),
        new("Seattle", "西雅图", "America/Los_Angeles"),
        new("Vancouver", "温哥华", "America/Vancouver"),
        new("Mexico City", "墨西哥城", "America/Mexico_City"),
        new("São Paulo", "圣保罗", "America/Sao_Paulo", "sao paulo"),
        new("Rio de Janeiro", "里约热内卢", "America/Sao_Paulo", "rio"),
        new("Buenos Aires", "布宜诺斯艾利斯", "America/Argentina/Buenos_Aires"),
        new("Lima", "利马", "America/Lima"),
        new("Santiago", "圣地亚哥", "America/Santiago"),
        new("Honolulu", "檀香山", "Pacific/Honolulu"),
        new("Anchorage", "安克雷奇", "America/Anchorage"),
        new("Sydney", "悉尼", "Australia/Sydney"),
        new("Melbourne", "墨尔本", "Australia/Melbourne"),
        new("Brisbane", "布里斯班", "Australia/Brisbane"),
        new("Perth", "珀斯", "Australia/Perth"),
        new("Auckland", "奥克兰", "Pacific/Auckland"),
    ];

    /// <summary>Every name of every city (aliases, English, Chinese), in the order <see cref="FindAll"/> searches them.</summary>
    private static readonly (string Name, City City)[] Names =
        [.. All.SelectMany(c => c.Aliases.Append(c.English).Append(c.Chinese).Select(n => (n, c)))];

    /// <summary>Every city mentioned in the text, in order of appearance (longest name wins where names overlap).</summary>
    public static IReadOnlyList<City> FindAll(string text)
    {
        // Runs on every time and weather request. In pure-ASCII text (most messages) case-insensitive ordinal
        // matching is ASCII case folding, so a name whose first character does not occur in the text, or that is not
        // ASCII itself, cannot match: it is skipped without a search (≈ 300 searches per message otherwise).
        bool ascii = System.Text.Ascii.IsValid(text);
        Span<bool> present = stackalloc bool[128];
        if (ascii)
        {
            foreach (char c in text) present[char.ToLowerInvariant(c)] = true;
        }
        var hits = new List<(int Start, int Length, City City)>();
        foreach (var (name, city) in Names)
        {
            if (ascii && (name.Length == 0 || name[0] >= 128 || !present[char.ToLowerInvariant(name[0])])) continue;
            foreach (int at in TextMatch.Occurrences(text, name))
            {
                hits.Add((at, name.Length, city));
            }
        }
        if (hits.Count == 0) return [];
        var chosen = new List<(int Start, int Length, City City)>();
        foreach (var hit in hits.OrderByDescending(h => h.Length).ThenBy(h => h.Start))
        {
            bool overlaps = chosen.Any(c => hit.Start < c.Start + c.Length && c.Start < hit.Start + hit.Length);
            if (!overlaps) chosen.Add(hit);
        }
        return chosen.OrderBy(c => c.Start).Select(c => c.City).Distinct().ToList();
    }

    public static City? Find(string name)
    {
        string n = name.Trim();
        return All.FirstOrDefault(c => string.Equals(c.English, n, StringComparison.OrdinalIgnoreCase) || c.Chinese == n
            || c.Aliases.Any(a => string.Equals(a, n, StringComparison.OrdinalIgnoreCase)));
    }

    public static string DisplayName(City city, string language) => language == "zh" ? city.Chinese : city.English;
}
