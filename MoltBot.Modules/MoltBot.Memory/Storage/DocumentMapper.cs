using LiteDB;

namespace MoltBot.Memory.Storage;

/// <summary>
/// The memory database's <see cref="BsonMapper"/>: the document classes of <see cref="Collections"/> are mapped by
/// hand-written member accessors instead of the getters and setters LiteDB compiles from expression trees (two dynamic
/// methods per member, always JIT-compiled fully optimized, which ReadyToRun cannot precompile: ≈ 80 of them on the
/// start-up path). Everything else stays LiteDB's: the same field names, member order, types and flags as its own
/// reflection mapping produces (<c>DocumentMapperTests</c> compares them member by member), so the documents, and the
/// files, are the same; serialization and deserialization are still LiteDB's code. Any other type goes to LiteDB's
/// mapping.
/// </summary>
public sealed class DocumentMapper : BsonMapper
{
    /// <summary>One mapper for every memory database of the process (it caches its entity mappings).</summary>
    public static DocumentMapper Shared { get; } = new();

    protected override EntityMapper BuildEntityMapper(Type type)
    {
        var members = MembersOf(type);
        if (members is null) return base.BuildEntityMapper(type);
        var entity = new EntityMapper(type) { CreateInstance = CreatorOf(type) };
        entity.Members.AddRange(members);
        return entity;
    }

    /// <summary>The mapping this mapper gives <paramref name="type"/> (for the tests: LiteDB's cache of it is internal).</summary>
    internal EntityMapper MappingOf(Type type) => BuildEntityMapper(type);

    private static CreateObject CreatorOf(Type type)
    {
        if (type == typeof(MessageDoc)) return _ => new MessageDoc();
        if (type == typeof(ConversationDoc)) return _ => new ConversationDoc();
        if (type == typeof(TurnPart)) return _ => new TurnPart();
        if (type == typeof(FactDoc)) return _ => new FactDoc();
        if (type == typeof(VectorDoc)) return _ => new VectorDoc();
        if (type == typeof(ProfileDoc)) return _ => new ProfileDoc();
        return _ => new MetaDoc();
    }

    // In declaration order, as LiteDB's reflection lists them; "[BsonId]" members are "_id" with AutoId true (the
    // attribute's default), every other member AutoId true as well (LiteDB's default for members without the attribute).
    private static MemberMapper[]? MembersOf(Type type)
    {
        if (type == typeof(MessageDoc))
        {
            return
            [
                Member<byte[]>("_id", nameof(MessageDoc.Key), o => ((MessageDoc)o).Key, (o, v) => ((MessageDoc)o).Key = (byte[])v),
                Member<string>("Mid", nameof(MessageDoc.Id), o => ((MessageDoc)o).Id, (o, v) => ((MessageDoc)o).Id = (string)v),
                Member<string>(nameof(MessageDoc.Conv), o => ((MessageDoc)o).Conv, (o, v) => ((MessageDoc)o).Conv = (string)v),
                Member<string>(nameof(MessageDoc.User), o => ((MessageDoc)o).User, (o, v) => ((MessageDoc)o).User = (string)v),
                Member<string>(nameof(MessageDoc.Direction), o => ((MessageDoc)o).Direction, (o, v) => ((MessageDoc)o).Direction = (string)v),
                Member<string>(nameof(MessageDoc.Text), o => ((MessageDoc)o).Text, (o, v) => ((MessageDoc)o).Text = (string)v),
                Member<long>(nameof(MessageDoc.Ts), o => ((MessageDoc)o).Ts, (o, v) => ((MessageDoc)o).Ts = (long)v),
                Member<string>(nameof(MessageDoc.Intent), o => ((MessageDoc)o).Intent, (o, v) => ((MessageDoc)o).Intent = (string?)v),
                Member<string>(nameof(MessageDoc.Language), o => ((MessageDoc)o).Language, (o, v) => ((MessageDoc)o).Language = (string?)v),
                Member<string>("RMid", nameof(MessageDoc.ReplyId), o => ((MessageDoc)o).ReplyId, (o, v) => ((MessageDoc)o).ReplyId = (string?)v),
                Member<string>("RText", nameof(MessageDoc.ReplyText), o => ((MessageDoc)o).ReplyText, (o, v) => ((MessageDoc)o).ReplyText = (string?)v),
                Member<long?>("RTs", nameof(MessageDoc.ReplyTs), o => ((MessageDoc)o).ReplyTs, (o, v) => ((MessageDoc)o).ReplyTs = (long?)v),
                Member<string>("RIntent", nameof(MessageDoc.ReplyIntent), o => ((MessageDoc)o).ReplyIntent, (o, v) => ((MessageDoc)o).ReplyIntent = (string?)v),
                Member<string>("RLanguage", nameof(MessageDoc.ReplyLanguage), o => ((MessageDoc)o).ReplyLanguage, (o, v) => ((MessageDoc)o).ReplyLanguage = (string?)v),
                Member<List<TurnPart>>(nameof(MessageDoc.More), o => ((MessageDoc)o).More, (o, v) => ((MessageDoc)o).More = (List<TurnPart>?)v),
            ];
        }
        if (type == typeof(TurnPart))
        {
            return
            [
                Member<string>("Mid", nameof(TurnPart.MessageId), o => ((TurnPart)o).MessageId, (o, v) => ((TurnPart)o).MessageId = (string)v),
                Member<string>(nameof(TurnPart.User), o => ((TurnPart)o).User, (o, v) => ((TurnPart)o).User = (string)v),
                Member<string>(nameof(TurnPart.Text), o => ((TurnPart)o).Text, (o, v) => ((TurnPart)o).Text = (string)v),
                Member<long>(nameof(TurnPart.Ts), o => ((TurnPart)o).Ts, (o, v) => ((TurnPart)o).Ts = (long)v),
                Member<string>(nameof(TurnPart.Intent), o => ((TurnPart)o).Intent, (o, v) => ((TurnPart)o).Intent = (string?)v),
                Member<string>(nameof(TurnPart.Language), o => ((TurnPart)o).Language, (o, v) => ((TurnPart)o).Language = (string?)v),
                Member<string>("RMid", nameof(TurnPart.ReplyId), o => ((TurnPart)o).ReplyId, (o, v) => ((TurnPart)o).ReplyId = (string)v),
                Member<string>("RText", nameof(TurnPart.ReplyText), o => ((TurnPart)o).ReplyText, (o, v) => ((TurnPart)o).ReplyText = (string)v),
                Member<long>("RTs", nameof(TurnPart.ReplyTs), o => ((TurnPart)o).ReplyTs, (o, v) => ((TurnPart)o).ReplyTs = (long)v),
                Member<string>("RIntent", nameof(TurnPart.ReplyIntent), o => ((TurnPart)o).ReplyIntent, (o, v) => ((TurnPart)o).ReplyIntent = (string?)v),
                Member<string>("RLanguage", nameof(TurnPart.ReplyLanguage), o => ((TurnPart)o).ReplyLanguage, (o, v) => ((TurnPart)o).ReplyLanguage = (string?)v),
            ];
        }
        if (type == typeof(ConversationDoc))
        {
            return
            [
                Member<string>("_id", nameof(ConversationDoc.Id), o => ((ConversationDoc)o).Id, (o, v) => ((ConversationDoc)o).Id = (string)v),
                Member<string>(nameof(ConversationDoc.User), o => ((ConversationDoc)o).User, (o, v) => ((ConversationDoc)o).User = (string)v),
                Member<int>(nameof(ConversationDoc.MessageCount), o => ((ConversationDoc)o).MessageCount, (o, v) => ((ConversationDoc)o).MessageCount = (int)v),
                Member<long>(nameof(ConversationDoc.StartedMs), o => ((ConversationDoc)o).StartedMs, (o, v) => ((ConversationDoc)o).StartedMs = (long)v),
                Member<long>(nameof(ConversationDoc.LastActivityMs), o => ((ConversationDoc)o).LastActivityMs, (o, v) => ((ConversationDoc)o).LastActivityMs = (long)v),
                Member<string>(nameof(ConversationDoc.DialogState), o => ((ConversationDoc)o).DialogState, (o, v) => ((ConversationDoc)o).DialogState = (string?)v),
                Member<List<string>>(nameof(ConversationDoc.Users), o => ((ConversationDoc)o).Users, (o, v) => ((ConversationDoc)o).Users = (List<string>?)v),
            ];
        }
        if (type == typeof(FactDoc))
        {
            return
            [
                Member<string>("_id", nameof(FactDoc.Id), o => ((FactDoc)o).Id, (o, v) => ((FactDoc)o).Id = (string)v),
                Member<string>(nameof(FactDoc.User), o => ((FactDoc)o).User, (o, v) => ((FactDoc)o).User = (string)v),
                Member<string>(nameof(FactDoc.Text), o => ((FactDoc)o).Text, (o, v) => ((FactDoc)o).Text = (string)v),
                Member<long>(nameof(FactDoc.Ts), o => ((FactDoc)o).Ts, (o, v) => ((FactDoc)o).Ts = (long)v),
                Member<long>(nameof(FactDoc.VectorId), o => ((FactDoc)o).VectorId, (o, v) => ((FactDoc)o).VectorId = (long)v),
            ];
        }
        if (type == typeof(VectorDoc))
        {
            return
            [
                Member<long>("_id", nameof(VectorDoc.Id), o => ((VectorDoc)o).Id, (o, v) => ((VectorDoc)o).Id = (long)v),
                Member<string>(nameof(VectorDoc.User), o => ((VectorDoc)o).User, (o, v) => ((VectorDoc)o).User = (string)v),
                Member<string>(nameof(VectorDoc.Kind), o => ((VectorDoc)o).Kind, (o, v) => ((VectorDoc)o).Kind = (string)v),
                Member<string>(nameof(VectorDoc.RefId), o => ((VectorDoc)o).RefId, (o, v) => ((VectorDoc)o).RefId = (string)v),
                Member<string>(nameof(VectorDoc.Text), o => ((VectorDoc)o).Text, (o, v) => ((VectorDoc)o).Text = (string)v),
                Member<long>(nameof(VectorDoc.Ts), o => ((VectorDoc)o).Ts, (o, v) => ((VectorDoc)o).Ts = (long)v),
                Member<byte[]>(nameof(VectorDoc.Vector), o => ((VectorDoc)o).Vector, (o, v) => ((VectorDoc)o).Vector = (byte[])v),
            ];
        }
        if (type == typeof(ProfileDoc))
        {
            return
            [
                Member<string>("_id", nameof(ProfileDoc.Id), o => ((ProfileDoc)o).Id, (o, v) => ((ProfileDoc)o).Id = (string)v),
                Member<string>(nameof(ProfileDoc.DisplayName), o => ((ProfileDoc)o).DisplayName, (o, v) => ((ProfileDoc)o).DisplayName = (string?)v),
                Member<string>(nameof(ProfileDoc.Language), o => ((ProfileDoc)o).Language, (o, v) => ((ProfileDoc)o).Language = (string?)v),
                Member<string>(nameof(ProfileDoc.TimeZone), o => ((ProfileDoc)o).TimeZone, (o, v) => ((ProfileDoc)o).TimeZone = (string?)v),
                Member<string>(nameof(ProfileDoc.City), o => ((ProfileDoc)o).City, (o, v) => ((ProfileDoc)o).City = (string?)v),
                Member<Dictionary<string, string>>(nameof(ProfileDoc.Preferences), o => ((ProfileDoc)o).Preferences, (o, v) => ((ProfileDoc)o).Preferences = (Dictionary<string, string>)v),
                Member<long>(nameof(ProfileDoc.UpdatedMs), o => ((ProfileDoc)o).UpdatedMs, (o, v) => ((ProfileDoc)o).UpdatedMs = (long)v),
            ];
        }
        if (type == typeof(MetaDoc))
        {
            return
            [
                Member<string>("_id", nameof(MetaDoc.Id), o => ((MetaDoc)o).Id, (o, v) => ((MetaDoc)o).Id = (string)v),
                Member<int>(nameof(MetaDoc.Segment), o => ((MetaDoc)o).Segment, (o, v) => ((MetaDoc)o).Segment = (int)v),
                Member<int>(nameof(MetaDoc.Offset), o => ((MetaDoc)o).Offset, (o, v) => ((MetaDoc)o).Offset = (int)v),
            ];
        }
        return null;
    }

    private static MemberMapper Member<T>(string name, GenericGetter getter, GenericSetter setter) =>
        Member<T>(name, name, getter, setter);

    // What LiteDB's reflection mapping records for a member: IsEnumerable for arrays and IEnumerable<T> other than
    // string, with the element type as UnderlyingType (byte[] → byte, List<string> → string, a dictionary's pairs).
    private static MemberMapper Member<T>(string field, string member, GenericGetter getter, GenericSetter setter)
    {
        var type = typeof(T);
        Type? underlying =
            type == typeof(byte[]) ? typeof(byte) :
            type == typeof(List<string>) ? typeof(string) :
            type == typeof(List<TurnPart>) ? typeof(TurnPart) :
            type == typeof(Dictionary<string, string>) ? typeof(KeyValuePair<string, string>) :
            null;
        return new MemberMapper
        {
            AutoId = true,
            FieldName = field,
            MemberName = member,
            DataType = type,
            IsEnumerable = underlying is not null,
            UnderlyingType = underlying ?? type,
            Getter = getter,
            Setter = setter,
        };
    }
}
