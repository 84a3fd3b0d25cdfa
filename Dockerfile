# syntax=docker/dockerfile:1
# VQToken Service image. Two flavours from one file (BuildKit builds only the stages it needs):
#   docker build -t vqtoken:cpu .                                  # CPU, TorchSharp-cpu
#   docker build -t vqtoken:cuda --build-arg TORCH_BACKEND=cuda .  # GPU, TorchSharp-cuda-linux
# The cuda build needs a NuGet feed that serves TorchSharp-cuda-linux and its libtorch-cuda packages.
# Both images are Ubuntu 24.04 based: its libstdc++ has GLIBCXX_3.4.32, so the TorchSharp native fix
# that publish runs (Directory.Build.targets, build/) is a no-op here.

ARG TORCH_BACKEND=cpu
ARG DOTNET_TAG=10.0-noble
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

# ---- build: restore (cached by project files), then publish self-contained for linux-x64 ----
FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_TAG} AS build
ARG TORCH_BACKEND
WORKDIR /src
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
COPY src/Ingestion/VQToken.Ingestion.csproj src/Ingestion/
COPY src/Engine/VQToken.Engine.csproj src/Engine/
COPY src/Testing/VQToken.Testing.csproj src/Testing/
COPY src/Api/VQToken.Api.csproj src/Api/
RUN dotnet restore src/Api/VQToken.Api.csproj -r linux-x64 -p:TorchBackend=${TORCH_BACKEND}
COPY src/Ingestion/ src/Ingestion/
COPY src/Engine/ src/Engine/
COPY src/Testing/ src/Testing/
COPY src/Api/ src/Api/
RUN dotnet publish src/Api/VQToken.Api.csproj -c Release -r linux-x64 --self-contained true --no-restore \
      -p:TorchBackend=${TORCH_BACKEND} -p:UseAppHost=true -o /app \
 && test -f /app/VQToken.Api

# ---- runtime bases: everything a running service needs besides the app itself ----
FROM mcr.microsoft.com/dotnet/runtime-deps:${DOTNET_TAG} AS runtime-cpu
ENV Engine__Device=cpu

FROM ${CUDA_IMAGE} AS runtime-cuda
# runtime-deps' native dependencies of .NET (the CUDA image lacks ICU and the CA bundle).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates libicu74 libssl3t64 tzdata \
 && rm -rf /var/lib/apt/lists/*
ENV Engine__Device=cuda \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility

# ---- final image ----
FROM runtime-${TORCH_BACKEND} AS final
ARG TORCH_BACKEND
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 vqtoken \
 && useradd --system --uid 10001 --gid vqtoken --home-dir /var/lib/vqtoken --shell /usr/sbin/nologin vqtoken \
 && mkdir -p /var/lib/vqtoken/models /var/lib/vqtoken/data \
 && chown -R vqtoken:vqtoken /var/lib/vqtoken

WORKDIR /app
COPY --from=build --chown=root:root /app/ /app/

# Defaults; every one can be overridden with -e / compose / a ConfigMap (Section__Key = Section:Key).
# OMP_WAIT_POLICY=PASSIVE: libtorch's idle OpenMP workers sleep instead of spinning against ffmpeg and other
# requests (the service also sets it itself when unset; docs/BENCHMARKS.md has the measurements).
ENV ASPNETCORE_HTTP_PORTS=8080 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_gcServer=1 \
    OMP_WAIT_POLICY=PASSIVE \
    HOME=/var/lib/vqtoken \
    Model__Repo=haichaozhang/VQ-Token-llava-ov-0.5b \
    Model__Revision=main \
    Model__CacheDir=/var/lib/vqtoken/models \
    Model__DemoPath=/var/lib/vqtoken/data/demo-model \
    Model__Offline=false \
    Model__Demo=false \
    Storage__Kind=file \
    Storage__Path=/var/lib/vqtoken/data \
    Video__MaxUploadBytes=2147483648 \
    VQTOKEN_TORCH_BACKEND=${TORCH_BACKEND}

# Model cache (GBs, downloaded once; share it between replicas) and data (videos, caches, demo model).
VOLUME ["/var/lib/vqtoken/models", "/var/lib/vqtoken/data"]

USER vqtoken:vqtoken
EXPOSE 8080
# Liveness only: /healthz answers while the model is still downloading; readiness is /readyz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/app/VQToken.Api"]
