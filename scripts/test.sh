#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine: installs the system parts the tests use
# (when missing and running as root), restores, builds (the TorchSharp native fix runs in the
# build) and tests, then prints the totals line "N passed, N failed".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v patchelf >/dev/null 2>&1 || need+=(patchelf)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# The frame resize parity tests run PIL (the official processor's resize) in Debian's python3.
py=/usr/bin/python3; [ -x "$py" ] || py=python3
"$py" -c "import PIL" >/dev/null 2>&1 || need+=(python3-pil)
command -v node >/dev/null 2>&1 || need+=(nodejs npm)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)   # deployment tests: nginx -t, local topology
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)          # deployment tests: compose file validation
# The web page test drives Debian's Chromium (playwright-core from npm, never a downloaded browser).
[ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing ${need[*]}"
    # No recommends: docker-compose would bring a Docker engine that the tests do not use.
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "test.sh: missing ${need[*]}; install them (apt-get install -y ${need[*]})" >&2
    exit 1
  fi
fi

results="${TEST_RESULTS_DIR:-$PWD/artifacts/test-results}"
rm -rf "$results"
dotnet test VQToken.Service.sln -c Release --logger "trx" --results-directory "$results" "$@"
rc=$?

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  passed=$((passed + $(get passed))); failed=$((failed + $(get failed)))
  skipped=$((skipped + $(get notExecuted)))
done
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi # a build or runner failure counts as a failure
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc
