return VQToken.Cli.VQTokenCli.Run(args);
