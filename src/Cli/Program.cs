return VQToken.Cli.CommandLine.Run(args);
