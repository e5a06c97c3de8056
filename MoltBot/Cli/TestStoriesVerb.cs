using System.CommandLine;
using MoltBot.DevTools;
using MoltBot.Hosting;

namespace MoltBot.Cli;

/// <summary>`test-stories DIR`: run conversation tests; exit 1 on any failure.</summary>
internal static class TestStoriesVerb
{
    public static Command Create()
    {
        var path = new Argument<string>("dir") { Description = "A story .json file or a folder of them (see stories/)." };
        var cmd = new Command("test-stories", "Run conversation tests (user says → expected intent/slots/reply pattern); exit 1 on failure.") { path };
        cmd.TreatUnmatchedTokensAsErrors = false;
        cmd.SetAction((parse, ct) => StartupErrors.GuardAsync(async () =>
        {
            var stories = await StoryRunner.LoadAsync(parse.GetValue(path)!, ct);
            string[] args = ["--Log:Level", "Warning", .. parse.UnmatchedTokens];
            var results = await new StoryRunner().RunAsync(stories, args, ct);
            foreach (var r in results)
            {
                Console.WriteLine($"{(r.Passed ? "PASS" : "FAIL")}  {r.Story} #{r.Step}: {r.User}");
                foreach (var f in r.Failures) Console.WriteLine($"      {f}");
            }
            int failed = results.Count(r => !r.Passed);
            Console.WriteLine($"{results.Count - failed} passed, {failed} failed");
            return failed == 0 ? 0 : 1;
        }));
        return cmd;
    }
}
