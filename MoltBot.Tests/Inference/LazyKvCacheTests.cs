using MoltBot.Contracts.Inference;
using MoltBot.Inference.Engines;

namespace MoltBot.Tests.Inference;

/// <summary>
/// A generation loop allocates its KV cache at its first job, not when the model loads: a deployment that never
/// generates with a model (NLU + skill turns) does not keep that model's zero-filled cache resident.
/// </summary>
public class LazyKvCacheTests
{
    [Fact]
    public async Task Only_the_model_that_generated_has_allocated_its_KV_cache()
    {
        await using var host = await InferenceHost.StartAsync(new() { ["Inference:LmPolicy"] = "student" });
        var set = host.Services.GetRequiredService<ModelRegistry>().Current;
        var student = set.StudentLoop!;
        var teacher = set.TeacherLoop!;
        Assert.False(student.CacheAllocated);
        Assert.False(teacher.CacheAllocated);

        var gen = host.Services.GetRequiredService<ITextGenerator>();
        var request = new GenerationRequest([new ChatMessage("user", "hello there")])
        {
            Model = "student",
            Sampling = new SamplingOptions { MaxNewTokens = 5 },
        };
        var first = new List<GeneratedToken>();
        await foreach (var t in gen.GenerateAsync(request, CancellationToken.None)) first.Add(t);
        var second = new List<GeneratedToken>();
        await foreach (var t in gen.GenerateAsync(request, CancellationToken.None)) second.Add(t);

        Assert.NotEmpty(first);
        Assert.Equal(first.Select(t => t.TokenId), second.Select(t => t.TokenId)); // the reused slot starts clean
        Assert.True(student.CacheAllocated);
        Assert.False(teacher.CacheAllocated);
    }
}
