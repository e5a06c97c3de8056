using System.Net;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Inference;

namespace MoltBot.Tests.Inference;

public class InferenceStartupTests
{
    [Fact]
    public async Task A_corrupt_model_folder_stops_the_host_with_a_message_naming_file_and_tensor()
    {
        string models = TinyModels.TempDir("broken");
        InferenceHost.WriteModels(models);
        string file = Path.Combine(models, "student-lm", "model.safetensors");
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..(bytes.Length - 64)]);
        var ex = await Assert.ThrowsAsync<StartupException>(() => TestHost.StartAsync(new Dictionary<string, string>
        {
            ["Models:Directory"] = models,
            ["Inference:ContinueWithoutBrokenModel"] = "false",
        }));
        Assert.Contains("student-lm", ex.Message);
        Assert.Contains(file, ex.Message);
        Assert.Contains("tensor '", ex.Message);
        Assert.Contains("truncated", ex.Message);

        // Configured to carry on: the other models serve and /readyz reports the problem.
        await using var host = await TestHost.StartAsync(new Dictionary<string, string>
        {
            ["Models:Directory"] = models,
            ["Inference:ContinueWithoutBrokenModel"] = "true",
        });
        var catalog = host.Services.GetRequiredService<IModelCatalog>();
        Assert.DoesNotContain(catalog.Models, m => m.Id == "student-lm");
        Assert.Contains(catalog.Models, m => m.Id == "teacher-lm");
        using var client = host.CreateClient();
        var ready = await client.GetAsync("/readyz");
        string body = await ready.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"models\"", body);
        Assert.Contains("Degraded", body, StringComparison.OrdinalIgnoreCase);
        var gen = host.Services.GetRequiredService<ITextGenerator>();
        await foreach (var t in gen.GenerateAsync(new GenerationRequest([new("user", "hi")]) { Sampling = new SamplingOptions { MaxNewTokens = 2 } }, CancellationToken.None))
            Assert.Equal("teacher-lm", t.Model);
        Directory.Delete(models, true);
    }

    [Fact]
    public async Task Invalid_inference_options_name_the_key()
    {
        var ex = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            InferenceHost.StartAsync(new() { ["Inference:Device"] = "tpu", ["Inference:NluMaxBatch"] = "0" }));
        string all = string.Join("\n", ex.Failures);
        Assert.Contains("Inference:Device must be cpu, cuda or auto.", all);
        Assert.Contains("Inference:NluMaxBatch must be between 1 and 1024.", all);
    }
}
