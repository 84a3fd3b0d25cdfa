using System.Text.Json;
using VQToken.Api.Storage;
using VQToken.Api.Videos;

namespace VQToken.Api.Tests.Storage;

public sealed class VideoLifecycleTests
{
    [Theory]
    [InlineData(VideoStatus.Queued, VideoStatus.Processing, true)]
    [InlineData(VideoStatus.Processing, VideoStatus.Ready, true)]
    [InlineData(VideoStatus.Processing, VideoStatus.Failed, true)]
    [InlineData(VideoStatus.Processing, VideoStatus.Queued, true)]
    [InlineData(VideoStatus.Ready, VideoStatus.Failed, true)]
    [InlineData(VideoStatus.Ready, VideoStatus.Processing, false)]
    [InlineData(VideoStatus.Ready, VideoStatus.Queued, false)]
    [InlineData(VideoStatus.Failed, VideoStatus.Ready, false)]
    [InlineData(VideoStatus.Failed, VideoStatus.Processing, false)]
    [InlineData(VideoStatus.Queued, VideoStatus.Ready, false)]
    public void Only_lifecycle_transitions_are_allowed_without_a_requeue(VideoStatus from, VideoStatus to, bool allowed)
    {
        Assert.Equal(allowed, VideoLifecycle.CanMove(from, to));
    }

    [Fact]
    public void Record_json_uses_the_api_names_for_statuses_and_modes()
    {
        var record = TestVideos.Queued(settings: CompressionSettings.Adaptive(32, 16, 64));

        var json = JsonSerializer.Serialize(record, StorageJsonContext.Default.VideoRecord);

        Assert.Contains("\"status\":\"queued\"", json);
        Assert.Contains("\"mode\":\"vqtoken-adaptive\"", json);
        Assert.Contains("\"kind\":\"upload\"", json);
        Assert.DoesNotContain("dedupeKey", json);
    }

    [Theory]
    [InlineData(32, CompressionMode.VQTokenFixed, null, null, null, false)]
    [InlineData(32, CompressionMode.VQTokenFixed, 32, null, null, true)]
    [InlineData(32, CompressionMode.VQTokenAdaptive, null, 64, 16, false)]
    [InlineData(0, CompressionMode.Full, null, null, null, false)]
    [InlineData(32, CompressionMode.Full, null, null, null, true)]
    public void Settings_must_match_their_mode(int frames, CompressionMode mode, int? k, int? minK, int? maxK, bool valid)
    {
        var settings = new CompressionSettings { Frames = frames, Mode = mode, K = k, MinK = minK, MaxK = maxK };

        Assert.Equal(valid, settings.Problems().Count == 0);
    }

    [Fact]
    public void Records_stored_before_token_paths_keep_their_keys_and_meaning()
    {
        // As stored by earlier versions: no elbow, no tokens.
        var legacyAdaptive = System.Text.Json.JsonSerializer.Deserialize<CompressionSettings>(
            """{"frames":8,"mode":"vqtoken-adaptive","minK":12,"maxK":32}""", new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!;
        var legacyFixed = new CompressionSettings { Frames = 8, Mode = CompressionMode.VQTokenFixed, K = 32 };

        Assert.Equal("f8:vqtoken-adaptive:k12-32", legacyAdaptive.CanonicalKey);
        Assert.Equal("f8:vqtoken-fixed:k32", legacyFixed.CanonicalKey);
        Assert.Empty(legacyAdaptive.Problems());
        Assert.Equal(ElbowIndexing.Centered, legacyAdaptive.EffectiveElbow);
        Assert.Equal(TokenPath.Attention, legacyFixed.EffectiveTokens(hasVQAttention: true));
        Assert.Equal(TokenPath.Codebook, legacyFixed.EffectiveTokens(hasVQAttention: false));
        Assert.Equal((ElbowIndexing.Centered, TokenPath.Attention), (legacyAdaptive.Resolve(true).Elbow, legacyAdaptive.Resolve(true).Tokens));
    }

    [Fact]
    public void K_is_bounded_by_the_configured_limit_and_never_beyond_what_the_index_map_holds()
    {
        var limits = new CompressionLimits(MaxFrames: 64, MaxK: 256, MaxAdaptiveKSpan: 64, MaxFramesTimesK: 8192, Section: "Video");

        Assert.Contains("Video:MaxK", CompressionSettings.Fixed(4, 257).Problems(limits)["k"][0]);
        Assert.Contains("Video:MaxFramesTimesK", CompressionSettings.Fixed(64, 256).Problems(limits)["k"][0]);
        Assert.Empty(CompressionSettings.Fixed(1, CompressionSettings.MaxSupportedK).Problems());
        Assert.NotEmpty(CompressionSettings.Fixed(1, CompressionSettings.MaxSupportedK + 1).Problems());
        Assert.Throws<ArgumentException>(() => CompressionSettings.Adaptive(1, 40, 20).EnsureValid());
    }

    [Fact]
    public void New_settings_name_their_elbow_and_token_path_in_the_key()
    {
        var published = CompressionSettings.Published(32);

        Assert.Equal("f32:vqtoken-adaptive:k12-32:official:codebook", published.CanonicalKey);
        Assert.Equal("f32:vqtoken-adaptive:k12-32:centered:codebook", CompressionSettings.Adaptive(32, 12, 32, ElbowIndexing.Centered).CanonicalKey);
        Assert.Equal("f32:vqtoken-fixed:k32:attention", CompressionSettings.Fixed(32, 32, TokenPath.Attention).CanonicalKey);
        Assert.NotEqual(published.CanonicalKey, (published with { Elbow = null, Tokens = null }).CanonicalKey);
        Assert.Equal(TokenPath.Codebook, published.EffectiveTokens(hasVQAttention: true));
        Assert.NotEmpty((CompressionSettings.Fixed(32, 32) with { Elbow = ElbowIndexing.Official }).Problems());
        Assert.NotEmpty((CompressionSettings.FullTokens(32) with { Tokens = TokenPath.Codebook }).Problems());
    }

    [Fact]
    public void Sampling_settings_are_part_of_the_key_and_absent_ones_keep_the_old_keys()
    {
        var published = CompressionSettings.Published(32);
        var byRate = published with { Frames = 1024, Fps = 1, MaxFrames = 1024 };

        Assert.Equal("f32:vqtoken-adaptive:k12-32:official:codebook", (published with { Fps = null, MaxFrames = null, Start = null, End = null }).CanonicalKey);
        Assert.Equal("fps1-max1024:vqtoken-adaptive:k12-32:official:codebook", byRate.CanonicalKey);
        Assert.Equal("fps0.5-max1024:vqtoken-adaptive:k12-32:official:codebook", (byRate with { Fps = 0.5 }).CanonicalKey);
        Assert.Equal("f32@10-20.5:vqtoken-adaptive:k12-32:official:codebook", (published with { Start = 10, End = 20.5 }).CanonicalKey);
        Assert.Equal("f8@-3:full", (CompressionSettings.FullTokens(8) with { End = 3 }).CanonicalKey);
        Assert.Empty(byRate.Problems());

        // A record stored before the sampling settings existed reads them as null, so its key is unchanged.
        var legacy = JsonSerializer.Deserialize("{\"frames\":8,\"mode\":\"vqtoken-fixed\",\"k\":32}", StorageJsonContext.Default.CompressionSettings)!;
        Assert.Equal("f8:vqtoken-fixed:k32", legacy.CanonicalKey);
        Assert.DoesNotContain("fps", JsonSerializer.Serialize(legacy, StorageJsonContext.Default.CompressionSettings));
    }

    [Theory]
    [InlineData(0.0, 64, null, null, "fps")]
    [InlineData(double.NaN, 64, null, null, "fps")]
    [InlineData(-1.0, 64, null, null, "fps")]
    [InlineData(1.0, 65, null, null, "maxFrames")]
    [InlineData(1.0, 64, -1.0, null, "start")]
    [InlineData(1.0, 64, 5.0, 5.0, "end")]
    [InlineData(1.0, 64, 6.0, 5.0, "end")]
    [InlineData(null, 64, 0.0, -2.0, "end")]
    public void Bad_sampling_settings_name_their_field(double? fps, int maxFrames, double? start, double? end, string field)
    {
        var limits = new CompressionLimits(MaxFrames: 64, MaxK: 256, MaxAdaptiveKSpan: 64, MaxFramesTimesK: 8192, Section: "Video");
        var settings = CompressionSettings.Fixed(fps is null ? 8 : maxFrames, 8) with
        {
            Fps = fps, MaxFrames = fps is null ? null : maxFrames, Start = start, End = end,
        };

        Assert.Contains(field, settings.Problems(limits).Keys);
    }

    [Fact]
    public void Frames_times_k_counts_the_cap_of_sampling_by_rate_and_the_range_is_checked_against_the_duration()
    {
        var limits = new CompressionLimits(MaxFrames: 1024, MaxK: 256, MaxAdaptiveKSpan: 64, MaxFramesTimesK: 8192, Section: "Video");
        var byRate = CompressionSettings.Fixed(1024, 32) with { Fps = 1, MaxFrames = 1024 };

        Assert.Contains("Video:MaxFramesTimesK", byRate.Problems(limits)["k"][0]);
        Assert.Contains("maxFrames", (CompressionSettings.Fixed(8, 8) with { MaxFrames = 8 }).Problems(limits).Keys);
        Assert.Equal(["end"], (byRate with { End = 12.5 }).RangeProblems(12.0).Keys);
        Assert.Equal(["start"], (byRate with { Start = 12 }).RangeProblems(12.0).Keys);
        Assert.Empty((byRate with { Start = 2, End = 12 }).RangeProblems(12.0));
    }

    [Fact]
    public void Ids_are_url_safe_and_sort_by_creation_time()
    {
        var earlier = VideoId.New(TestVideos.Epoch);
        var later = VideoId.New(TestVideos.Epoch.AddMilliseconds(1));

        Assert.True(VideoId.IsValid(earlier));
        Assert.True(string.CompareOrdinal(earlier, later) < 0);
        Assert.Equal(Uri.EscapeDataString(earlier), earlier);
        Assert.False(VideoId.IsValid("../" + earlier[3..]));
    }
}
