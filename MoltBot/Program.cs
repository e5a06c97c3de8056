using MoltBot.Cli;

// MoltBot's entry point: parse the verb, run it. See Cli/ for the verbs and Hosting/ for the composition root.
return await CliApp.InvokeAsync(args);
