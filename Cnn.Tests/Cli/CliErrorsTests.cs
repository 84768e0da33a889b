using Cnn.Training.Cli;
using Cnn.Zoo;
using Cnn.Zoo.Analysis;

namespace Cnn.Tests.Cli;

/// <summary>
/// Exit codes are decided by the project's own exception types: a wrong choice is exit 2 with its message, damaged
/// input exit 1 with its message, and anything else (a bug, whatever .NET type it has) asks to be reported with its log.
/// </summary>
[TestClass]
public sealed class CliErrorsTests
{
    static (int Code, string Error, string Log) Report(Action fail)
    {
        using var folder = new TempFolder("cli-errors");
        var session = new CliSession(["eval", "--data", "x"]) { Verb = "eval", RunFolder = folder.Path };
        var error = new StringWriter();
        try { fail(); }
        catch (Exception e)
        {
            int code = CliErrors.Report(e, session, error);
            string log = Path.Combine(folder.Path, "error.log");
            return (code, error.ToString(), File.Exists(log) ? File.ReadAllText(log) : "");
        }
        throw new AssertFailedException("the action did not throw");
    }

    [TestMethod]
    public void BugShapedExceptionsFromInsideTheProjectAreReportedAsUnexpected()
    {
        // .NET's argument and state exceptions, thrown by project code on values no user chose.
        var outOfRange = Report(() => ConvArithmetic.OutputSize(0, 3));
        var single = Report(() => new[] { 1, 2 }.Single());
        using var model = ModelRegistry.Create("lenet5", 10);
        var shape = Report(() => model.call(TorchSharp.torch.zeros(1, 3, 32, 32)));

        foreach (var (name, (code, error, log)) in new[] { ("out of range", outOfRange), ("Single()", single), ("input shape", shape) })
        {
            Assert.AreEqual(ExitCode.Failed, code, name);
            StringAssert.Contains(error, "This is an unexpected error", name);
            StringAssert.Contains(error, "please report it with the log", name);
            StringAssert.Contains(log, "   at ", $"{name}: the stack trace is in error.log");
            Assert.IsFalse(error.Contains("   at ", StringComparison.Ordinal), $"{name}: no stack trace on the console");
        }
        StringAssert.Contains(outOfRange.Error, "ArgumentOutOfRangeException");
        StringAssert.Contains(single.Error, "InvalidOperationException");
    }

    [TestMethod]
    public void AWrongChoiceIsAUsageErrorAndDamagedInputAFailureNeitherAskingForAReport()
    {
        var choice = Report(() => ModelRegistry.Create("resnet51"));
        Assert.AreEqual(ExitCode.Usage, choice.Code);
        StringAssert.Contains(choice.Error, "error: unknown model 'resnet51'; known models: lenet5");
        StringAssert.Contains(choice.Error, "cnnzoo eval --help");
        Assert.IsFalse(choice.Error.Contains("unexpected", StringComparison.Ordinal));

        var damaged = Report(() => throw new InvalidDataException("data/x.idx: truncated; expected 784 bytes, found 12"));
        Assert.AreEqual(ExitCode.Failed, damaged.Code);
        StringAssert.Contains(damaged.Error, "error: data/x.idx: truncated");
        StringAssert.Contains(damaged.Error, "(details in ");
        Assert.IsFalse(damaged.Error.Contains("unexpected", StringComparison.Ordinal));
    }
}
