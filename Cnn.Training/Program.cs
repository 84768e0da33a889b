using Cnn.Training.Cli;

// The `dotnet run` entry point: `cnnzoo <verb> [options]`; with no verb it trains LeNet-5 on the shipped MNIST.
return Commands.Run(args);
