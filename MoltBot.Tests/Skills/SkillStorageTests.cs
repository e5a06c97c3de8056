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
