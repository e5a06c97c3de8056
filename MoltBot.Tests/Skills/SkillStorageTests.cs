using System.Text.Json;
using MoltBot.Contracts.Skills;
using MoltBot.Skills.Dispatch;

namespace MoltBot.Tests.Skills;

public class SkillStorageTests
{
    [Fact]
    public async Task Each_skill_has_its_own_keys_and_they_survive_reopening_the_file()
    {
        string root = SkillsHarness.NewRoot();
        string file = Path.Combine(root, "data", "skills", "storage.db");
        try
        {
            using (var db = new SkillStorageDatabase(file))
            {
                var a = db.For("dice");
                var b = db.For("other.plugin");
                await a.SetAsync("rolls:web:1", "3", CancellationToken.None);
                await a.SetAsync("rolls:web:2", "5", CancellationToken.None);
                await a.SetAsync("name", "x", CancellationToken.None);
                await b.SetAsync("rolls:web:1", "99", CancellationToken.None);

                Assert.Equal(["rolls:web:1", "rolls:web:2"], (await a.KeysAsync("rolls:", CancellationToken.None)).Order());
                Assert.Equal("99", await b.GetAsync("rolls:web:1", CancellationToken.None));
                Assert.True(await a.DeleteAsync("name", CancellationToken.None));
                Assert.False(await a.DeleteAsync("name", CancellationToken.None));
            }
            using (var reopened = new SkillStorageDatabase(file))
            {
                Assert.Equal("3", await reopened.For("dice").GetAsync("rolls:web:1", CancellationToken.None));
                Assert.Null(await reopened.For("dice").GetAsync("name", CancellationToken.None));
            }
        }
        finally
        {
            SkillsHarness.DeleteRoot(root);
        }
    }

    [Fact]
    public async Task Readers_racing_the_first_write_of_a_skill_never_see_a_half_created_collection()
    {
        // LiteDB 5 lets a reader see a collection that another thread's uncommitted first write is creating; the read
        // then fails with "page type must be collection page". Every round starts a fresh skill (a fresh collection)
        // whose first write races readers on other threads.
        string root = SkillsHarness.NewRoot();
        string file = Path.Combine(root, "data", "skills", "storage.db");
        try
        {
            using var db = new SkillStorageDatabase(file);
            var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
            for (int round = 0; round < 120; round++)
            {
                var store = db.For("race.skill" + round);
                using var go = new ManualResetEventSlim();
                var readers = Enumerable.Range(0, 3).Select(r => Task.Run(async () =>
                {
                    go.Wait();
                    for (int i = 0; i < 20; i++)
                    {
                        try
                        {
                            await store.GetAsync("k" + i, CancellationToken.None);
                            await store.KeysAsync("k", CancellationToken.None);
                        }
                        catch (Exception ex)
                        {
                            failures.Enqueue(ex);
                        }
                    }
                })).ToList();
                var writer = Task.Run(async () =>
                {
                    go.Wait();
                    for (int i = 0; i < 5; i++) await store.SetAsync("k" + i, new string('v', 2000), CancellationToken.None);
                });
                go.Set();
                await Task.WhenAll(readers.Append(writer));
                Assert.Equal(new string('v', 2000), await store.GetAsync("k4", CancellationToken.None));
            }
            Assert.True(failures.IsEmpty, $"{failures.Count} reads failed, e.g. {failures.FirstOrDefault()?.Message}");
        }
        finally
        {
            SkillsHarness.DeleteRoot(root);
        }
    }

    [Fact]
    public void A_skill_gets_only_the_capabilities_it_declared()
    {
        using var http = new HttpClient();
        var settings = JsonDocument.Parse("{}").RootElement;
        var host = new SkillHostContext("x", [SkillPermissions.Network], settings, TimeProvider.System, http, storage: null, memory: new FakeFactMemory(), outbound: new RecordingOutboundQueue());
        Assert.Same(http, host.Http);
        Assert.False(host.Has(SkillPermissions.Memory));
        var denied = Assert.Throws<SkillPermissionException>(() => host.Memory);
        Assert.Equal("Skill 'x' did not declare the 'memory' permission in its manifest, so it cannot use it.", denied.Message);
        Assert.Throws<SkillPermissionException>(() => host.Outbound);

        var declaredMissing = new SkillHostContext("y", [SkillPermissions.Storage], settings, TimeProvider.System);
        Assert.Contains("declared the 'storage' permission but this MoltBot host does not provide it", Assert.Throws<SkillPermissionException>(() => declaredMissing.Storage).Message);
    }
}
