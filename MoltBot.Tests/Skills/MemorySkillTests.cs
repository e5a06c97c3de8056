namespace MoltBot.Tests.Skills;

public class MemorySkillTests
{
    [Fact]
    public async Task Remember_and_recall_in_english_and_chinese_per_user()
    {
        var memory = new FakeFactMemory();
        await using var skills = await SkillsHarness.StartAsync(memory: memory);
        try
        {
            var (id, stored) = await skills.SayAsync("Remember that my sister's birthday is May 3", user: "ann");
            Assert.Equal("memory", id);
            Assert.Equal("Got it, I'll remember that my sister's birthday is May 3.", stored.Text);
            Assert.Equal(["my sister's birthday is May 3"], memory.Facts["web:ann"]);

            var (_, recalled) = await skills.SayAsync("what did I tell you about my sister?", user: "ann");
            Assert.Equal("You told me: my sister's birthday is May 3", recalled.Text);

            var (_, zhStored) = await skills.SayAsync("记住我的车停在B2层", "zh", user: "ann");
            Assert.Equal("好的，我记住了：我的车停在B2层", zhStored.Text);
            var (_, zhRecalled) = await skills.SayAsync("我跟你说过车停在哪里吗", "zh", user: "ann");
            Assert.Equal("你跟我说过：我的车停在B2层", zhRecalled.Text);

            // Another user has no such memories.
            var (_, nothing) = await skills.SayAsync("what did I tell you about my sister?", user: "bob");
            Assert.Equal("I don't remember you telling me anything about my sister.", nothing.Text);
        }
        finally
        {
            SkillsHarness.DeleteRoot(skills.Root);
        }
    }

    [Fact]
    public async Task Without_a_fact_memory_the_memory_skill_is_not_offered()
    {
        await using var skills = await SkillsHarness.StartAsync();
        try
        {
            Assert.DoesNotContain(skills.Dispatcher.Skills, s => s.Id == "memory");
            Assert.Null(skills.Dispatcher.Match("remember that I like tea", SkillsHarness.Nlu()));
        }
        finally
        {
            SkillsHarness.DeleteRoot(skills.Root);
        }
    }
}
