using System.Globalization;
using MoltBot.Contracts.Configuration;

namespace MoltBot.Channels.Telegram;

/// <summary>
/// The next getUpdates offset (last handled update_id + 1), written atomically after every update is in the
/// pipeline. Telegram forgets updates below the offset we send, so after a restart nothing is fetched twice.
/// </summary>
public sealed class TelegramOffsetStore(string path)
{
    public string FilePath { get; } = path;

    public int? Load()
    {
        if (!File.Exists(FilePath)) return null;
        string text = File.ReadAllText(FilePath).Trim();
        if (text.Length == 0) return null;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int offset)
            ? offset
            : throw new StartupException($"{FilePath} holds '{text}', not a Telegram update offset; delete the file to start from the updates Telegram still keeps.");
    }

    public void Save(int offset)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        string tmp = FilePath + ".tmp";
        File.WriteAllText(tmp, offset.ToString(CultureInfo.InvariantCulture));
        File.Move(tmp, FilePath, overwrite: true);
    }
}
