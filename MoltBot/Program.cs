using MoltBot.Cli;
using MoltBot.Hosting;

// MoltBot's entry point: parse the verb, run it. See Cli/ for the verbs and Hosting/ for the composition root.
StartupTimeline.MainEntered();
return await CliApp.InvokeAsync(args);
