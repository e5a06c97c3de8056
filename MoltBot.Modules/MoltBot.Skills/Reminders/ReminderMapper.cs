using LiteDB;

namespace MoltBot.Skills.Reminders;

/// <summary>
/// The reminder database's <see cref="BsonMapper"/>: <see cref="Reminder"/> is mapped by hand-written member accessors
/// instead of the getters and setters LiteDB compiles from expression trees (26 dynamic methods, JIT-compiled fully
/// optimized at the database's open, which ReadyToRun cannot precompile). Field names, member order, types and flags
/// are what LiteDB's reflection mapping with <c>Entity&lt;Reminder&gt;().Id(r =&gt; r.Id, autoId: false)</c> gave
/// (<c>ReminderMapperTests</c> compares them), and serialization is still LiteDB's, so the documents and files are the same.
/// </summary>
public sealed class ReminderMapper : BsonMapper
{
    /// <summary>One mapper for the process (it caches its entity mappings).</summary>
    public static ReminderMapper Shared { get; } = new();

    /// <summary>The mapping this mapper gives <paramref name="type"/> (for the tests: LiteDB's cache of it is internal).</summary>
    internal EntityMapper MappingOf(Type type) => BuildEntityMapper(type);

    protected override EntityMapper BuildEntityMapper(Type type)
    {
        if (type != typeof(Reminder)) return base.BuildEntityMapper(type);
        var entity = new EntityMapper(type) { CreateInstance = _ => new Reminder() };
        entity.Members.AddRange(
        [
            Member<string>("_id", nameof(Reminder.Id), o => ((Reminder)o).Id, (o, v) => ((Reminder)o).Id = (string)v, autoId: false),
            Member<string>(nameof(Reminder.UserKey), o => ((Reminder)o).UserKey, (o, v) => ((Reminder)o).UserKey = (string)v),
            Member<string>(nameof(Reminder.Platform), o => ((Reminder)o).Platform, (o, v) => ((Reminder)o).Platform = (string)v),
            Member<string>(nameof(Reminder.Account), o => ((Reminder)o).Account, (o, v) => ((Reminder)o).Account = (string)v),
            Member<string>(nameof(Reminder.ConversationId), o => ((Reminder)o).ConversationId, (o, v) => ((Reminder)o).ConversationId = (string)v),
            Member<string>(nameof(Reminder.UserId), o => ((Reminder)o).UserId, (o, v) => ((Reminder)o).UserId = (string)v),
            Member<string>(nameof(Reminder.Text), o => ((Reminder)o).Text, (o, v) => ((Reminder)o).Text = (string)v),
            Member<string>(nameof(Reminder.Language), o => ((Reminder)o).Language, (o, v) => ((Reminder)o).Language = (string)v),
            Member<string>(nameof(Reminder.TimeZone), o => ((Reminder)o).TimeZone, (o, v) => ((Reminder)o).TimeZone = (string)v),
            Member<long>(nameof(Reminder.DueMs), o => ((Reminder)o).DueMs, (o, v) => ((Reminder)o).DueMs = (long)v),
            Member<long>(nameof(Reminder.CreatedMs), o => ((Reminder)o).CreatedMs, (o, v) => ((Reminder)o).CreatedMs = (long)v),
            Member<long?>(nameof(Reminder.FiredMs), o => ((Reminder)o).FiredMs, (o, v) => ((Reminder)o).FiredMs = (long?)v),
            Member<ReminderState>(nameof(Reminder.State), o => ((Reminder)o).State, (o, v) => ((Reminder)o).State = (ReminderState)v),
        ]);
        return entity;
    }

    private static MemberMapper Member<T>(string name, GenericGetter getter, GenericSetter setter, bool autoId = true) =>
        Member<T>(name, name, getter, setter, autoId);

    private static MemberMapper Member<T>(string field, string member, GenericGetter getter, GenericSetter setter, bool autoId = true) => new()
    {
        AutoId = autoId,
        FieldName = field,
        MemberName = member,
        DataType = typeof(T),
        IsEnumerable = false,
        UnderlyingType = typeof(T),
        Getter = getter,
        Setter = setter,
    };
}
