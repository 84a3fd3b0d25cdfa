namespace VQToken.Engine.Checkpoints.Acquisition;

/// <summary>Turns <see cref="ModelOptions"/> into a local checkpoint directory: the demo checkpoint
/// (generated once), <c>Model:Path</c> as is, a complete cached download, or a fresh download from the
/// hub into the cache (offline mode: the cache or a clear error, no network).</summary>
public static class ModelLocator
{
    public static Task<ResolvedModel> ResolveAsync(ModelOptions options, IProgress<ModelDownloadProgress>? progress, CancellationToken cancellationToken) =>
        ResolveAsync(options, progress, null, null, null, cancellationToken);

    /// <param name="settings">Retry behaviour of the download; defaults when null.</param>
    /// <param name="handler">HTTP handler for the hub; tests pass one that dials loopback only.</param>
    /// <param name="writeDemo">Writes the <c>Model:Demo</c> checkpoint into a directory (the engine ships no generator).</param>
    public static async Task<ResolvedModel> ResolveAsync(ModelOptions options, IProgress<ModelDownloadProgress>? progress,
        HubDownloadSettings? settings, HttpMessageHandler? handler, Action<string>? writeDemo, CancellationToken cancellationToken)
    {
        if (options.Demo)
            return await DemoCheckpoint.EnsureAsync(options.DemoRoot(), writeDemo ?? throw new ModelAcquisitionException(
                ModelAcquisitionError.InvalidOptions, "Model:Demo=true needs a demo checkpoint generator, which this host does not have"), cancellationToken);
        if (options.Path.Length > 0) return Local(options.Path);
        if (options.Repo.Length == 0)
            throw new ModelAcquisitionException(ModelAcquisitionError.InvalidOptions, "set Model:Path (a local checkpoint), Model:Repo (a Hugging Face repository id) or Model:Demo=true");

        var cache = new ModelCache(options.CacheRoot());
        var directory = cache.DirectoryFor(options.Repo, options.Revision);
        var name = $"{options.Repo}@{options.Revision}";
        if (ModelCache.CompleteManifest(directory) is not null) return new ResolvedModel(directory, ModelSource.Cache, $"{name} (cache)");
        if (options.Offline) throw OfflineMiss(options, directory);

        using (await ModelCache.LockAsync(directory, null, cancellationToken))
        {
            // Another replica may have finished the download while this one waited for the lock.
            if (ModelCache.CompleteManifest(directory) is not null) return new ResolvedModel(directory, ModelSource.Cache, $"{name} (cache)");
            using var downloader = new HubDownloader(options, settings, handler);
            var files = await downloader.ListCheckpointFilesAsync(cancellationToken);
            CheckIsCheckpoint(files, name);
            await DownloadAllAsync(downloader, files, directory, progress, cancellationToken);
            new CacheManifest(options.Repo, options.Revision,
                files.Select(f => new CacheManifestFile(f.Name, new FileInfo(Path.Combine(directory, f.Name)).Length, f.Sha256)).ToList())
                .Write(directory);
            return new ResolvedModel(directory, ModelSource.Downloaded, $"{name} (downloaded)");
        }
    }

    private static async Task DownloadAllAsync(HubDownloader downloader, IReadOnlyList<HubFile> files, string directory,
        IProgress<ModelDownloadProgress>? progress, CancellationToken cancellationToken)
    {
        long? total = files.All(f => f.Size is not null) ? files.Sum(f => f.Size!.Value) : null;
        long done = 0;
        foreach (var file in files)
        {
            var path = Path.Combine(directory, file.Name);
            // A file left complete by an interrupted earlier run is checked again (size, SHA-256) like a
            // finished partial: kept when it matches what the hub announces now, downloaded anew otherwise.
            if (File.Exists(path))
            {
                if (file.Size is not null) File.Move(path, path + ".partial", overwrite: true);
                else File.Delete(path);
            }
            long before = done;
            await downloader.DownloadAsync(file, path,
                (fileBytes, fileTotal) => progress?.Report(new ModelDownloadProgress(file.Name, fileBytes, fileTotal, before + fileBytes, total)),
                cancellationToken);
            done += new FileInfo(path).Length;
        }
    }

    private static void CheckIsCheckpoint(IReadOnlyList<HubFile> files, string name)
    {
        if (!files.Any(f => f.Name == LlavaConfig.FileName))
            throw new ModelAcquisitionException(ModelAcquisitionError.NotACheckpoint, $"{name} has no {LlavaConfig.FileName}");
        if (!files.Any(f => f.Name.EndsWith(".safetensors", StringComparison.Ordinal)))
            throw new ModelAcquisitionException(ModelAcquisitionError.NotACheckpoint, $"{name} has no *.safetensors weights (other weight formats are not supported)");
    }

    private static ResolvedModel Local(string path)
    {
        if (!Directory.Exists(path))
            throw new ModelAcquisitionException(ModelAcquisitionError.InvalidOptions, $"Model:Path '{path}' is not a directory");
        if (!File.Exists(Path.Combine(path, LlavaConfig.FileName)))
            throw new ModelAcquisitionException(ModelAcquisitionError.InvalidOptions, $"Model:Path '{path}' has no {LlavaConfig.FileName}: not a checkpoint directory");
        return new ResolvedModel(Path.GetFullPath(path), ModelSource.LocalPath, $"{path} (local)");
    }

    private static ModelAcquisitionException OfflineMiss(ModelOptions options, string directory)
    {
        var manifest = CacheManifest.TryRead(directory);
        var detail = manifest is null ? "no complete download there" : "files missing or damaged: " + string.Join(", ", manifest.MissingFiles(directory));
        return new ModelAcquisitionException(ModelAcquisitionError.OfflineCacheMissing,
            $"Model:Offline is true but {options.Repo}@{options.Revision} is not in the cache '{directory}' ({detail}). " +
            "Start once with network access (Model:Offline=false) to fill the cache, or point Model:Path at a checkpoint directory.");
    }
}
