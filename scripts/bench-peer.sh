#!/usr/bin/env bash
# The ONNX Runtime peer and this engine, back to back on this machine, on the same work at the same prompt
# lengths: the peer's run.sh (../shared/peer-ort; it exports its graphs once, needs python3-torch), then
# `vqtoken bench-peer` on the bench's full-size random checkpoint. Prints both JSON lines and a Markdown table.
# usage: scripts/bench-peer.sh [PEER_CACHE_DIR (default /tmp/peer-ort)] [bench-peer options...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cache="${1:-/tmp/peer-ort}"
shift || true
peer_json="$(mktemp)"
trap 'rm -f "$peer_json"' EXIT
dotnet build src/Cli -c Release -v q -nologo >/dev/null
../shared/peer-ort/run.sh "$cache" | tail -n 1 | tee "$peer_json"
dotnet src/Cli/bin/Release/net10.0/vqtoken.dll bench-peer --against "$peer_json" "$@"
