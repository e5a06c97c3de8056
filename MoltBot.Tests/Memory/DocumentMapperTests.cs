using LiteDB;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;
using MoltBot.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

/// <summary>
/// The memory database maps its documents with hand-written accessors (<see cref="DocumentMapper"/>) instead of
/// LiteDB's expression-compiled ones; files written through LiteDB's own mapping must read back identically, and
/// documents written now must be the bytes LiteDB's mapping would have written.
/// </summary>
public class DocumentMapperTests
{
    private static readonly Type[] DocumentTypes =
        [typeof(MessageDoc), typeof(TurnPart), typeof(ConversationDoc), typeof(FactDoc), typeof(VectorDoc), typeof(ProfileDoc), typeof(MetaDoc)];

    public static TheoryData<string> TypeNames() => new(DocumentTypes.Select(t => t.Name));

    private static Type Named(string name) => DocumentTypes.Single(t => t.Name == name);

    [Theory]
    [MemberData(nameof(TypeNames))]
    public void Members_are_the_ones_LiteDBs_reflection_mapping_finds(string typeName)
    {
        var type = Named(typeName);
        var expected = new ReflectionMapper().MappingOf(type).Members;
        var actual = new DocumentMapper().MappingOf(type).Members;
        Assert.Equal(string.Join("\n", expected.Select(Describe)), string.Join("\n", actual.Select(Describe)));
    }

    /// <summary>LiteDB's own mapping by reflection (compiled accessors), as earlier versions used it.</summary>
    private sealed class ReflectionMapper : BsonMapper
    {
        public EntityMapper MappingOf(Type type) => BuildEntityMapper(type);
    }

    private static string Describe(MemberMapper m) =>
        $"{m.FieldName}|{m.MemberName}|{m.DataType}|{m.IsEnumerable}|{m.UnderlyingType}|{m.AutoId}|{m.IsDbRef}|{m.IsIgnore}|" +
        $"{m.Getter is not null}|{m.Setter is not null}|{m.Serialize is not null}|{m.Deserialize is not null}";

    [Fact]
    public void The_open_database_maps_every_document_type_without_compiled_accessors()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-mapper-test").FullName;
        try
        {
            using var database = Open(root);
            var mapper = Assert.IsType<DocumentMapper>(database.Db.Mapper);
            foreach (var type in DocumentTypes)
            {
                foreach (var member in mapper.MappingOf(type).Members)
                {
                    // An expression tree compiled by LiteDB is a dynamic method: it has no declaring type.
                    Assert.True(member.Getter.Method.DeclaringType is not null, $"{type.Name}.{member.MemberName}'s getter was compiled at run time");
                    Assert.True(member.Setter.Method.DeclaringType is not null, $"{type.Name}.{member.MemberName}'s setter was compiled at run time");
                }
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static MessageDoc Message(string id, string? intent) => new()
    {
        Key = MessageKey.For("web:c1", id), Id = id, Conv = "web:c1", User = "web:alice", Direction = "in",
        Text = "  spaced text  ", Ts = 1_732_000_000_123, Intent = intent, Language = intent is null ? null : "de",
    };

    private static object[] Samples() =>
    [
        Message("m1", "weather.ask"),
        Message("m2", null),
        new MessageDoc
        {
            Key = MessageKey.For("web:c1", "m3"), Id = "m3", Conv = "web:c1", User = "web:alice", Direction = "in", Text = "a turn", Ts = 5,
            ReplyId = "m3:out", ReplyText = "its reply", ReplyTs = 6, ReplyLanguage = "de",
        },
        new MessageDoc
        {
            Key = MessageKey.For("web:c1", "m4"), Id = "m4", Conv = "web:c1", User = "web:alice", Direction = "in", Text = "a bucket", Ts = 7,
            ReplyId = "m4:out", ReplyText = "first reply", ReplyTs = 8,
            More =
            [
                new TurnPart { MessageId = "m5", User = "web:bob", Text = "second", Ts = 9, Intent = "x.y", Language = "en", ReplyId = "m5:out", ReplyText = "", ReplyTs = 10, ReplyLanguage = "en" },
                new TurnPart { MessageId = "m6", User = "web:alice", Text = "third", Ts = 11, ReplyId = "m6:out", ReplyText = "r", ReplyTs = 12 },
            ],
        },
        new ConversationDoc { Id = "web:c1", User = "web:alice", MessageCount = 7, StartedMs = 1, LastActivityMs = long.MaxValue, DialogState = "{\"a\":1}", Users = ["web:alice", "web:bob"] },
        new ConversationDoc { Id = "web:c2", User = "web:bob", MessageCount = 0, StartedMs = -5, LastActivityMs = 0, DialogState = null, Users = null },
        new ConversationDoc { Id = "web:c3", User = "", Users = [] },
        new FactDoc { Id = "f1", User = "web:alice", Text = "likes tea", Ts = 42, VectorId = 9_000_000_000 },
        new VectorDoc { Id = 17, User = "web:alice", Kind = "fact", RefId = "f1", Text = "likes tea", Ts = 43, Vector = VectorDoc.Pack([0.5f, -1.25f, float.Epsilon]) },
        new VectorDoc { Id = 0, User = "u", Kind = "message", RefId = "m1", Text = "", Ts = 0, Vector = [] },
        new ProfileDoc { Id = "web:alice", DisplayName = "Alice", Language = "en", TimeZone = "Europe/Berlin", City = "Berlin", Preferences = new() { ["units"] = "metric", ["tone"] = "" }, UpdatedMs = 99 },
        new ProfileDoc { Id = "web:bob", UpdatedMs = 1 },
        new MetaDoc { Id = "replay", Segment = 3, Offset = int.MaxValue },
    ];

    [Fact]
    public void Documents_are_the_bytes_LiteDBs_mapping_writes_and_read_back_the_same()
    {
        var reflection = new BsonMapper();
        var handWritten = new DocumentMapper();
        foreach (var sample in Samples())
        {
            var type = sample.GetType();
            var expected = reflection.ToDocument(type, sample);
            var actual = handWritten.ToDocument(type, sample);
            Assert.Equal(BsonSerializer.Serialize(expected), BsonSerializer.Serialize(actual));

            // Read back through each mapping: the same object, field by field.
            var viaHand = handWritten.ToObject(type, expected);
            var viaReflection = reflection.ToObject(type, expected);
            Assert.Equal(BsonSerializer.Serialize(reflection.ToDocument(type, viaReflection)), BsonSerializer.Serialize(reflection.ToDocument(type, viaHand)));
        }
    }

    [Fact]
    public void A_file_written_through_LiteDBs_mapping_opens_with_its_indexes_and_reads_back_identically()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-mapper-test").FullName;
        string file = Path.Combine(root, "data", "memory", "moltbot.db");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var samples = Samples();
        try
        {
            List<string> indexesBefore;
            using (var old = new LiteDatabase(new ConnectionString { Filename = file, Connection = ConnectionType.Direct }, new BsonMapper()))
            {
                // The schema as earlier versions created it: indexes from member lambdas, typed inserts by reflection.
                var conversations = old.GetCollection<ConversationDoc>(Collections.Conversations);
                conversations.EnsureIndex(x => x.User);
                conversations.EnsureIndex(x => x.LastActivityMs);
                conversations.EnsureIndex(MemoryDatabase.UsersIndex, "$.Users[*]");
                old.GetCollection<FactDoc>(Collections.Facts).EnsureIndex(x => x.User);
                var vectors = old.GetCollection<VectorDoc>(Collections.Vectors);
                vectors.EnsureIndex(x => x.User);
                vectors.EnsureIndex(x => x.RefId);
                old.GetCollection<ProfileDoc>(Collections.Profiles).EnsureIndex(x => x.UpdatedMs);
                old.GetCollection<MetaDoc>(Collections.Meta).EnsureIndex(x => x.Segment);
                foreach (var sample in samples) Insert(old, sample);
                indexesBefore = Indexes(old);
            }

            using var database = Open(root);
            var db = database.Db;
            Assert.Equal(indexesBefore, Indexes(db));
            var reflection = new BsonMapper();
            foreach (var sample in samples)
            {
                var type = sample.GetType();
                var id = reflection.ToDocument(type, sample)["_id"];
                object read = Read(db, type, id) ?? throw new Xunit.Sdk.XunitException($"{type.Name} {id} was not read back");
                // What LiteDB's own mapping makes of the same stored document (it turns "" into null, for one).
                object expected = reflection.ToObject(type, db.GetCollection(CollectionOf(type)).FindById(id));
                Assert.Equal(LiteDB.JsonSerializer.Serialize(reflection.ToDocument(type, expected)), LiteDB.JsonSerializer.Serialize(reflection.ToDocument(type, read)));
                Assert.Equal(BsonSerializer.Serialize(reflection.ToDocument(type, expected)), BsonSerializer.Serialize(reflection.ToDocument(type, read)));
            }
            // And what was read is what the objects hold, spot-checked without any mapper in between.
            var message = db.GetCollection<MessageDoc>(Collections.Messages).FindById(MessageKey.For("web:c1", "m1"));
            Assert.Equal(("m1", "web:c1", "web:alice", "in", "spaced text", 1_732_000_000_123L, "weather.ask", "de"),
                (message.Id, message.Conv, message.User, message.Direction, message.Text, message.Ts, message.Intent, message.Language));
            Assert.Null(db.GetCollection<MessageDoc>(Collections.Messages).FindById(MessageKey.For("web:c1", "m2")).Intent);
            Assert.Equal(["web:alice", "web:bob"], db.GetCollection<ConversationDoc>(Collections.Conversations).FindById("web:c1").Users);
            Assert.Null(db.GetCollection<ConversationDoc>(Collections.Conversations).FindById("web:c2").Users);
            Assert.Equal([0.5f, -1.25f, float.Epsilon], VectorDoc.Unpack(db.GetCollection<VectorDoc>(Collections.Vectors).FindById(17).Vector));
            Assert.Equal("metric", db.GetCollection<ProfileDoc>(Collections.Profiles).FindById("web:alice").Preferences["units"]);
            Assert.Equal(int.MaxValue, db.GetCollection<MetaDoc>(Collections.Meta).FindById("replay").Offset);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string CollectionOf(Type type) =>
        type == typeof(MessageDoc) ? Collections.Messages :
        type == typeof(ConversationDoc) ? Collections.Conversations :
        type == typeof(FactDoc) ? Collections.Facts :
        type == typeof(VectorDoc) ? Collections.Vectors :
        type == typeof(ProfileDoc) ? Collections.Profiles : Collections.Meta;

    private static void Insert(LiteDatabase db, object sample)
    {
        switch (sample)
        {
            case MessageDoc m: db.GetCollection<MessageDoc>(Collections.Messages).Insert(m); break;
            case ConversationDoc c: db.GetCollection<ConversationDoc>(Collections.Conversations).Insert(c); break;
            case FactDoc f: db.GetCollection<FactDoc>(Collections.Facts).Insert(f); break;
            case VectorDoc v: db.GetCollection<VectorDoc>(Collections.Vectors).Insert(v); break;
            case ProfileDoc p: db.GetCollection<ProfileDoc>(Collections.Profiles).Insert(p); break;
            case MetaDoc x: db.GetCollection<MetaDoc>(Collections.Meta).Insert(x); break;
        }
    }

    private static object? Read(LiteDatabase db, Type type, BsonValue id) => CollectionOf(type) switch
    {
        Collections.Messages => db.GetCollection<MessageDoc>(Collections.Messages).FindById(id),
        Collections.Conversations => db.GetCollection<ConversationDoc>(Collections.Conversations).FindById(id),
        Collections.Facts => db.GetCollection<FactDoc>(Collections.Facts).FindById(id),
        Collections.Vectors => db.GetCollection<VectorDoc>(Collections.Vectors).FindById(id),
        Collections.Profiles => db.GetCollection<ProfileDoc>(Collections.Profiles).FindById(id),
        _ => db.GetCollection<MetaDoc>(Collections.Meta).FindById(id),
    };

    private static List<string> Indexes(LiteDatabase db) =>
        db.GetCollection("$indexes").FindAll()
            .Where(i => i["collection"].AsString != Collections.Messages) // "messages" is reshaped by the schema conversions
            .Select(i => $"{i["collection"].AsString}/{i["name"].AsString}={i["expression"].AsString}/{i["unique"].AsBoolean}")
            .Order(StringComparer.Ordinal).ToList();

    private static MemoryDatabase Open(string root)
    {
        var paths = new MoltBotPaths(root, Path.Combine(root, "data"), Path.Combine(root, "models"));
        var database = new MemoryDatabase(paths, Options.Create(new MemoryOptions()), NullLogger<MemoryDatabase>.Instance);
        database.Open();
        return database;
    }
}
