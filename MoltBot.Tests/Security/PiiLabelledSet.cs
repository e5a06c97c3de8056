namespace MoltBot.Tests.Security;

/// <summary>
/// The labelled set for the detector's precision/recall: hand-written sentences (positives in realistic phrasing
/// and hard negatives: order numbers, dates, times, version strings, hashes, ids) plus generated ones.
/// Each label is (type, exact substring).
/// </summary>
public static class PiiLabelledSet
{
    public sealed record Example(string Text, IReadOnlyList<(string Type, string Value)> Labels);

    private static Example E(string text, params (string, string)[] labels) => new(text, labels);

    public static readonly IReadOnlyList<Example> HandWritten =
    [
        // Positives
        E("Contact me at john.doe@example.com please", ("EMAIL", "john.doe@example.com")),
        E("邮箱是 wang.fang@163.com，谢谢", ("EMAIL", "wang.fang@163.com")),
        E("cc: A.B+tag@sub.example.co.uk.", ("EMAIL", "A.B+tag@sub.example.co.uk")),
        E("我的手机号是13812345678", ("PHONE", "13812345678")),
        E("call 138 1234 5678 after 6", ("PHONE", "138 1234 5678")),
        E("tel +86 159-0000-1234 ok", ("PHONE", "+86 159-0000-1234")),
        E("UK office: +44 20 7946 0958.", ("PHONE", "+44 20 7946 0958")),
        E("US: +1 (415) 555-2671", ("PHONE", "+1 (415) 555-2671")),
        E("Ring (415) 555-2671 tomorrow", ("PHONE", "(415) 555-2671")),
        E("Berlin +49 30 12345678", ("PHONE", "+49 30 12345678")),
        E("Pay with 4111 1111 1111 1111 thanks", ("CARD", "4111 1111 1111 1111")),
        E("card 5500-0000-0000-0004 exp 12/27", ("CARD", "5500-0000-0000-0004")),
        E("Amex 378282246310005", ("CARD", "378282246310005")),
        E("银联卡 6200000000000005", ("CARD", "6200000000000005")),
        E("身份证号 11010519491231002X 已提交", ("CNID", "11010519491231002X")),
        E("ID: 440524188001010014", ("CNID", "440524188001010014")),
        E("IBAN DE89 3704 0044 0532 0130 00 for the refund", ("IBAN", "DE89 3704 0044 0532 0130 00")),
        E("wire to GB82WEST12345698765432", ("IBAN", "GB82WEST12345698765432")),
        E("NL91ABNA0417164300 is my account", ("IBAN", "NL91ABNA0417164300")),
        E("FR14 2004 1010 0505 0001 3M02 606", ("IBAN", "FR14 2004 1010 0505 0001 3M02 606")),
        E("my server is 203.0.113.45, can you ping it", ("IP", "203.0.113.45")),
        E("connect from 2001:db8:85a3::8a2e:370:7334 fails", ("IP", "2001:db8:85a3::8a2e:370:7334")),
        E("full 2001:0db8:0000:0000:0000:ff00:0042:8329 address", ("IP", "2001:0db8:0000:0000:0000:ff00:0042:8329")),
        E("my key is sk-proj-AbCdEf1234567890GhIjKlMn", ("SECRET", "sk-proj-AbCdEf1234567890GhIjKlMn")),
        E("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", ("SECRET", "ghp_abcdefghijklmnopqrstuvwxyz0123456789")),
        E("bot 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0 here", ("SECRET", "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0")),
        E("AWS AKIAIOSFODNN7EXAMPLE leaked", ("SECRET", "AKIAIOSFODNN7EXAMPLE")),
        E("password=hunter2hunter2 in the config", ("SECRET", "hunter2hunter2")),
        E("Authorization: Bearer abcDEF123ghiJKL456mnoPQR", ("SECRET", "abcDEF123ghiJKL456mnoPQR")),
        E("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            ("SECRET", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")),
        E("slack xoxb-2222-3333-AbCdEfGhIjKl", ("SECRET", "xoxb-2222-3333-AbCdEfGhIjKl")),
        E("email bob@example.org or phone 13900001111", ("EMAIL", "bob@example.org"), ("PHONE", "13900001111")),

        // Hard negatives: nothing to find
        E("Order #20231115000123 shipped"),
        E("order number 1234567890123452 is late"), // 16 digits, issuer-less prefix "12"
        E("Invoice INV-4111-2222-3333 due"),
        E("We upgraded to version 1.2.3.4 yesterday"),
        E("running v2.10.1 on build 10.0.19041.1"),
        E("Python 3.11.4 and .NET 10.0.100"),
        E("meeting on 2024-01-15 at 12:30:45"),
        E("timestamp 2024-01-15T10:30:00Z"),
        E("ms since epoch 1732400000000"),
        E("ISBN 978-3-16-148410-0"),
        E("uuid 3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
        E("sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
        E("price 1,234.56 USD for 3 items"),
        E("room 1203, floor 12"),
        E("邮编 100000，订单 20240115"),
        E("tracking 1Z999AA10123456784"),
        E("the ratio is 3:4:5 and 10:20:30"),
        E("MAC 00:1A:2B:3C:4D:5E on eth0"),
        E("id 123456789012345678 is a snowflake"), // 18 digits, no valid CNID checksum
        E("call at 3pm, table for 4"),
        E("score 98.6.1 is not an address"),
        E("user @alice mentioned #general"),
        E("file report_2024_Q1_final_v2.pdf attached"),
        E("the password field is empty"),
        E("token expired, please sign in"),
        E("HelloWorldThisIsALongCamelCaseIdentifierName"),
        E("nested.module.path.ClassName.Method"),
        E("GB23 is our team code"),
        E("wifi name CMCC-5G, channel 36"),
    ];

    /// <summary>
    /// Cases the detector is known to get wrong, kept in the precision/recall numbers so they stay honest:
    /// national phone formats without a country code, obfuscated emails, the old 15-digit Chinese ID, lower-case
    /// IBANs, dotted card numbers, and four-part build numbers that are valid IPv4 addresses.
    /// </summary>
    public static readonly IReadOnlyList<Example> KnownHard =
    [
        E("London office 020 7946 0958", ("PHONE", "020 7946 0958")),
        E("Handy 0171 2345678", ("PHONE", "0171 2345678")),
        E("座机 010-62345678", ("PHONE", "010-62345678")),
        E("write to john at example dot com", ("EMAIL", "john at example dot com")),
        E("老身份证 110105491231002", ("CNID", "110105491231002")),
        E("iban de89 3704 0044 0532 0130 00", ("IBAN", "de89 3704 0044 0532 0130 00")),
        E("card 4111.1111.1111.1111", ("CARD", "4111.1111.1111.1111")),
        E("build 4.12.0.1 released"),
        E("firmware 10.2.0.15 is out"),
        E("token: see-the-wiki-page for details"),
    ];

    /// <summary>Generated positives in several sentence shapes, plus generated look-alike negatives.</summary>
    public static IReadOnlyList<Example> Generated(int count, int seed)
    {
        var samples = new PiiSamples(seed);
        var random = new Random(seed);
        string[] templates = ["Hi, it's {0}.", "请联系 {0} 谢谢", "details: {0}; thanks", "({0})", "value={0}&x=1", "{0}", "send to {0} asap"];
        var list = new List<Example>();
        for (int i = 0; i < count; i++)
        {
            var (type, value) = samples.Any();
            string template = templates[random.Next(templates.Length)];
            list.Add(E(string.Format(template, value), (type, value)));
        }
        for (int i = 0; i < count / 2; i++)
        {
            string negative = random.Next(5) switch
            {
                0 => "order " + samples.NonLuhn("4", 16),
                1 => $"version {random.Next(1, 20)}.{random.Next(0, 20)}.{random.Next(0, 300)}",
                2 => $"on {2000 + random.Next(30)}-{random.Next(1, 13):00}-{random.Next(1, 29):00} at {random.Next(24):00}:{random.Next(60):00}",
                3 => "ticket #" + samples.Digits(10),
                _ => "amount " + random.Next(1000, 99999) + "." + random.Next(10, 99),
            };
            list.Add(E(negative));
        }
        return list;
    }
}
