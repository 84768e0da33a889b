using System.CommandLine;
using Cnn.Training.Data;

namespace Cnn.Training.Cli;

/// <summary><c>cnnzoo export-images</c>: an IDX data set written as a folder of image files, one sub-folder per class.</summary>
public static class ExportImagesCommand
{
    public static Command Create(CliSession session)
    {
        var data = CliOptions.Text("--data", "fashion-mnist", "mnist, fashion-mnist or an IDX folder", "data");
        var output = CliOptions.OptionalText("--out", "folder to write (train/ and test/, one sub-folder per class)", "folder");
        var perClass = CliOptions.Int("--per-class", 100, "images per class and split (0: all)", 0);
        var format = CliOptions.Choice("--format", ImageFileFormat.Png, "image file format");
        var command = new Command("export-images", "write an IDX data set (e.g. the shipped Fashion-MNIST) as an image folder of PNG or JPEG files")
        {
            data, output, perClass, format,
        };
        command.SetAction(parse =>
        {
            string folder = parse.GetValue(output) ?? throw new UsageException("export-images needs --out DIR");
            int? limit = parse.GetValue(perClass) is var n && n > 0 ? n : null;
            var (train, test, source) = DataSources.Load(parse.GetValue(data)!, 0.2, 0, BadDataPolicy.Fail);
            DatasetExport.ToImageFolder(train, Path.Combine(folder, "train"), limit, parse.GetValue(format));
            DatasetExport.ToImageFolder(test, Path.Combine(folder, "test"), limit, parse.GetValue(format));
            Console.WriteLine($"Wrote {source} as {parse.GetValue(format)} files to {Path.GetFullPath(folder)}/train and /test");
            return ExitCode.Success;
        });
        return command;
    }
}
