using System.CommandLine;
using System.CommandLine.Invocation;
using Cnn.Zoo.Runtime;

namespace Cnn.Training.Cli;

/// <summary>
/// The <c>cnnzoo</c> command line on System.CommandLine: one <see cref="Command"/> per verb (each in its own file),
/// typed options, generated help, "did you mean" suggestions, response files (<c>@args.rsp</c>) and tab completion
/// through <c>dotnet-suggest</c>. <see cref="Run"/> is the one error path: parse errors exit 2, failed runs 1, and no
/// stack trace reaches the console.
/// </summary>
public static class Commands
{
    /// <summary>Runs <c>cnnzoo</c> with <paramref name="argv"/>; with no verb it trains (LeNet-5 on the shipped MNIST).</summary>
    public static int Run(string[] argv)
    {
        NativeEnvironment.EnsurePassiveOpenMpWaits();   // before libtorch loads: libgomp reads it once
        var session = new CliSession(argv);
        var root = Root(session);
        var parse = root.Parse(WithDefaultVerb(argv));
        var output = Console.Out;
        var error = Console.Error;
        if (parse.Errors.Count > 0) return ReportParseErrors(parse, error);
        session.Verb = parse.CommandResult.Command.Name;
        try
        {
            // Every verb runs libtorch with the finalizer thread held between safe points (see NativeSafety).
            using var safety = NativeSafety.Hold();
            // Ctrl+C is handled by the train verb itself (finish the step, save); the library must not kill the process.
            return parse.Invoke(new InvocationConfiguration
            {
                EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null, Output = output, Error = error,
            });
        }
        catch (Exception e)
        {
            return CliErrors.Report(e, session, error);
        }
    }

    /// <summary>Every verb, in the order help lists them.</summary>
    public static RootCommand Root(CliSession session)
    {
        var root = new RootCommand(
            "cnnzoo: classic CNNs on TorchSharp. Train, evaluate, predict, fine-tune, benchmark.\n" +
            "With no verb it trains LeNet-5 on the shipped MNIST. 'cnnzoo <verb> --help' lists a verb's options.\n" +
            ExitCode.Help)
        {
            TrainCommand.Create(session),
            EvalCommand.Create(session),
            PredictCommand.Create(session),
            ModelsCommand.Create(session),
            SummaryCommand.Create(session),
            ExportImagesCommand.Create(session),
            FinetuneCommand.Create(session),
            BenchCommand.Create(session),
            ExportCommand.Create(session),
            ExplainCommand.Create(session),
            HandoffCommand.Create(session),
        };
        foreach (var verb in root.Subcommands) GuardPositionals(verb);
        root.SetAction(parse => new System.CommandLine.Help.HelpAction().Invoke(parse));
        return root;
    }

    /// <summary>The verb names, as help lists them.</summary>
    public static IReadOnlyList<string> Verbs => Root(new CliSession([])).Subcommands.Select(c => c.Name).ToList();

    /// <summary><c>cnnzoo</c> alone or <c>cnnzoo --epochs 3</c> means train; <c>cnnzoo help</c> means --help.</summary>
    static string[] WithDefaultVerb(string[] argv)
    {
        if (argv.Length == 0) return ["train"];
        if (argv[0] == "help") return ["--help", .. argv[1..]];
        bool option = argv[0].StartsWith('-') && argv[0] is not ("-h" or "-?" or "--help" or "--version");
        return option ? ["train", .. argv] : argv;
    }

    /// <summary>
    /// A word that looks like an option but is not one of the verb's would otherwise be taken as a positional
    /// argument (an image file, a model name); say so instead.
    /// </summary>
    static void GuardPositionals(Command verb)
    {
        foreach (var argument in verb.Arguments)
        {
            argument.Validators.Add(result =>
            {
                foreach (var token in result.Tokens.Where(t => t.Value.StartsWith("--", StringComparison.Ordinal)))
                    result.AddError($"'{verb.Name}' does not take {token.Value}. Allowed: {AllowedOptions(verb)}");
            });
        }
    }

    static string AllowedOptions(Command verb)
        => string.Join(", ", verb.Options.Where(o => !o.Hidden && o.Name.StartsWith("--", StringComparison.Ordinal)).Select(o => o.Name));

    /// <summary>
    /// Prints each parse error with the library's typo corrections ("did you mean") and what the verb allows; exit 2.
    /// </summary>
    static int ReportParseErrors(ParseResult parse, TextWriter error)
    {
        foreach (var e in parse.Errors) error.WriteLine($"error: {e.Message}");
        using var suggestions = new StringWriter();
        if (parse.Action is ParseErrorAction action)
        {
            action.ShowHelp = false;
            action.ShowTypoCorrections = true;
            parse.Invoke(new InvocationConfiguration { Output = suggestions, Error = TextWriter.Null });
        }
        // The library suggests for every unmatched word; only the suggestions for options and verbs help.
        var verb = parse.CommandResult.Command;
        foreach (string block in suggestions.ToString().Split("\n'", StringSplitOptions.RemoveEmptyEntries))
        {
            string text = block.TrimStart('\'').Trim();
            if (text.Length > 0 && (text.StartsWith('-') || verb is RootCommand)) error.WriteLine("'" + text);
        }

        bool unmatched = parse.UnmatchedTokens.Count > 0;
        if (verb is RootCommand)
            error.WriteLine($"verbs: {string.Join(", ", verb.Subcommands.Select(c => c.Name))}");
        else if (unmatched && parse.UnmatchedTokens.Any(t => t.StartsWith('-')))
            error.WriteLine($"'{verb.Name}' takes: {AllowedOptions(verb)}");
        error.WriteLine(verb is RootCommand ? "(run 'cnnzoo --help' for the verbs)" : $"(run 'cnnzoo {verb.Name} --help' for the options)");
        return ExitCode.Usage;
    }
}
