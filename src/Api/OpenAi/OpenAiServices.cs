using VQToken.Api.Ask;
using VQToken.Api.Inference;
using VQToken.Api.ServiceDefaults;
using VQToken.Api.Videos;
using VQToken.Ingestion.Url;

namespace VQToken.Api.OpenAi;

/// <summary>Handler dependencies of the OpenAI-compatible endpoints (each resolved from DI by [AsParameters]).</summary>
public sealed record OpenAiServices(VideoAnswerer Answerer, VideoIntake Intake, VideoUrlFetcher Fetcher, ModelHost Model, TimeProvider Clock, ErrorProblems Errors);
