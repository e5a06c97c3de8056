using LiteDB;
using MoltBot.Skills.Reminders;

namespace MoltBot.Tests.Skills;

/// <summary>
/// Reminders are mapped with hand-written accessors (<see cref="ReminderMapper"/>) instead of LiteDB's
/// expression-compiled ones, and queried by field name instead of LINQ; a reminder file written through LiteDB's own
/// mapping (as earlier versions did) must read back identically and answer the same queries.
/// </summary>
public class ReminderMapperTests
{
    /// <summary>LiteDB's reflection mapping, configured as earlier versions configured it.</summary>
    private sealed class ReflectionMapper : BsonMapper
    {
        public ReflectionMapper() => Entity<Reminder>().Id(r => r.Id, autoId: false);

        public EntityMapper MappingOf(Type type) => BuildEntityMapper(type);
    }

    private static string Describe(MemberMapper m) =>
        $"{m.FieldName}|{m.MemberName}|{m.DataType}|{m.IsEnumerable}|{m.UnderlyingType}|{m.AutoId}|{m.IsDbRef}|{m.IsIgnore}|" +
        $"{m.Getter is not null}|{m.Setter is not null}|{m.Serialize is not null}|{m.Deserialize is not null}";

    [Fact]
    public void Members_are_the_ones_LiteDBs_reflection_mapping_with_the_Id_setting_finds()
    {
        var reflection = new ReflectionMapper().MappingOf(typeof(Reminder)).Members;
        // Entity<Reminder>().Id(…, autoId: false) applies to LiteDB's cached mapping, not to a freshly built one.
        Assert.Equal("_id", reflection[0].FieldName);
        reflection[0].AutoId = false;
        var expected = reflection.Select(Describe).ToList();
        var actual = new ReminderMapper().MappingOf(typeof(Reminder)).Members.Select(Describe);
        Assert.Equal(string.Join("\n", expected), string.Join("\n", actual));
        foreach (var member in ReminderMapper.Shared.MappingOf(typeof(Reminder)).Members)
        {
            // An expression tree compiled by LiteDB is a dynamic method: it has no declaring type.
            Assert.True(member.Getter.Method.DeclaringType is not null, $"{member.MemberName}'s getter was compiled at run time");
            Assert.True(member.Setter.Method.DeclaringType is not null, $"{member.MemberName}'s setter was compiled at run time");
        }
    }

    private static Reminder[] Samples() =>
    [
        new() { Id = "r1", UserKey = "web:alice", Platform = "web", Account = "default", ConversationId = "c1", UserId = "alice", Text = "tea", Language = "de", TimeZone = "Europe/Berlin", DueMs = 5_000, CreatedMs = 1_000, FiredMs = null, State = ReminderState.Pending },
        new() { Id = "r2", UserKey = "web:alice", Platform = "web", ConversationId = "c1", UserId = "alice", Text = "later", DueMs = 3_000, CreatedMs = 1_001, State = ReminderState.Pending },
        new() { Id = "r3", UserKey = "web:alice", Platform = "web", ConversationId = "c1", UserId = "alice", Text = "done", DueMs = 2_000, CreatedMs = 1_002, FiredMs = 2_001, State = ReminderState.Fired },
        new() { Id = "r4", UserKey = "web:bob", Platform = "telegram", Account = "bot2", ConversationId = "c2", UserId = "bob", Text = "call", DueMs = 4_000, CreatedMs = 1_003, State = ReminderState.Pending },
        new() { Id = "r5", UserKey = "web:bob", Platform = "telegram", ConversationId = "c2", UserId = "bob", Text = "x", DueMs = 1_000, CreatedMs = 1_004, FiredMs = 0, State = ReminderState.Cancelled },
        new() { Id = "r6", UserKey = "web:bob", Platform = "telegram", ConversationId = "c2", UserId = "bob", Text = "y", DueMs = 900, CreatedMs = 1_005, FiredMs = long.MaxValue, State = ReminderState.Missed },
    ];

    private static string Json(BsonMapper mapper, Reminder r) => LiteDB.JsonSerializer.Serialize(mapper.ToDocument(r));

    [Fact]
    public void A_file_written_through_LiteDBs_mapping_reads_back_identically_and_answers_the_same_queries()
    {
        string root = SkillsHarness.NewRoot();
        string file = Path.Combine(root, "reminders.db");
        var reflection = new ReflectionMapper();
        try
        {
            List<string> indexesBefore;
            using (var old = new LiteDatabase(new ConnectionString { Filename = file, Connection = ConnectionType.Direct }, reflection))
            {
                var reminders = old.GetCollection<Reminder>("reminders");
                reminders.EnsureIndex(r => r.UserKey);
                reminders.EnsureIndex(r => r.DueMs);
                foreach (var r in Samples())
                {
                    reminders.Insert(r);
                    // The bytes this version writes are the ones LiteDB's mapping wrote.
                    Assert.Equal(BsonSerializer.Serialize(reflection.ToDocument(r)), BsonSerializer.Serialize(ReminderMapper.Shared.ToDocument(r)));
                }
                indexesBefore = Indexes(old);
            }

            using (var store = new ReminderStore(file))
            {
                store.Open();
                Assert.IsType<ReminderMapper>(store.Mapper);
                foreach (var sample in Samples())
                {
                    var read = store.Get(sample.Id) ?? throw new Xunit.Sdk.XunitException($"{sample.Id} was not read back");
                    Assert.Equal(Json(reflection, sample), Json(reflection, read));
                    Assert.Equal(sample.FiredMs, read.FiredMs);
                    Assert.Equal(sample.State, read.State);
                }
                Assert.Equal(["r2", "r1"], store.Pending("web:alice").Select(r => r.Id));
                Assert.Equal(["r4"], store.Pending("web:bob").Select(r => r.Id));
                Assert.Equal(["r2", "r4"], store.Due(4_000).Select(r => r.Id));
                Assert.Empty(store.Due(2_999));
                Assert.Equal(3_000, store.NextDueMs());
                Assert.True(store.Cancel("r2"));
                store.Mark("r1", ReminderState.Fired, 5_001);
                Assert.Equal(["r4"], store.Due(10_000).Select(r => r.Id));
                Assert.Equal(4_000, store.NextDueMs());
            }

            using (var again = new LiteDatabase(new ConnectionString { Filename = file, Connection = ConnectionType.Direct }, new ReflectionMapper()))
            {
                Assert.Equal(indexesBefore, Indexes(again));
                var r1 = again.GetCollection<Reminder>("reminders").FindById("r1");
                Assert.Equal((ReminderState.Fired, (long?)5_001), (r1.State, r1.FiredMs));
                Assert.Equal("Cancelled", again.GetCollection("reminders").FindById("r2")["State"].AsString);
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static List<string> Indexes(LiteDatabase db) =>
        db.GetCollection("$indexes").FindAll()
            .Select(i => $"{i["collection"].AsString}/{i["name"].AsString}={i["expression"].AsString}/{i["unique"].AsBoolean}")
            .Order(StringComparer.Ordinal).ToList();
}
