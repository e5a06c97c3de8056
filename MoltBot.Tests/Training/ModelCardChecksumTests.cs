using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace MoltBot.Tests.Training;

/// <summary>
/// Every file of every bundled model (member subfolders of an ensemble included, listed as `member-0/…`) matches the
/// size and sha256 its MODEL_CARD.md lists, and nothing is unlisted.
/// </summary>
public sealed partial class ModelCardChecksumTests
{
    private static readonly string[] Names = ["teacher-nlu", "student-nlu", "teacher-lm", "student-lm"];

    public static TheoryData<string> Models => new(Names);

    [Theory]
    [MemberData(nameof(Models))]
    public void Committed_files_match_the_model_card(string model)
    {
        string dir = Path.Combine(RepoRoot.Path, "models", model);
        string card = File.ReadAllText(Path.Combine(dir, "MODEL_CARD.md"));
        var listed = FileRow().Matches(card).ToDictionary(m => m.Groups[1].Value, m => (Bytes: long.Parse(m.Groups[2].Value), Sha: m.Groups[3].Value));
        Assert.Contains(listed.Keys, f => f.EndsWith("model.safetensors", StringComparison.Ordinal));
        Assert.Contains("config.json", listed.Keys);
        foreach (var (file, expected) in listed)
        {
            string path = Path.Combine(dir, file);
            Assert.True(File.Exists(path), $"{model}/{file} is listed in MODEL_CARD.md but missing");
            Assert.Equal(expected.Bytes, new FileInfo(path).Length);
            using var stream = File.OpenRead(path);
            Assert.Equal(expected.Sha, Convert.ToHexStringLower(SHA256.HashData(stream)));
        }
        var unlisted = Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f).Replace('\\', '/'))
            .Where(f => f != "MODEL_CARD.md" && !listed.ContainsKey(f)).ToList();
        Assert.Empty(unlisted);
    }

    [Fact]
    public void Bundled_models_stay_under_60_MB()
    {
        long total = Names.Sum(m => Directory.GetFiles(Path.Combine(RepoRoot.Path, "models", m), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length));
        Assert.True(total < 60_000_000, $"bundled models take {total:N0} bytes");
    }

    /// <summary>| `file` | bytes | sha256 |</summary>
    [GeneratedRegex(@"^\|\s*`([^`]+)`\s*\|\s*(\d+)\s*\|\s*([0-9a-f]{64})\s*\|", RegexOptions.Multiline)]
    private static partial Regex FileRow();
}
