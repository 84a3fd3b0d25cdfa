VQToken.Engine.Runtime.OpenMpWaitPolicy.Apply();   // before TorchSharp loads libgomp
return VQToken.Cli.VQTokenCli.Run(args);
