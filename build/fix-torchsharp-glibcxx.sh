#!/usr/bin/env bash
# Makes TorchSharp's libLibTorchSharp.so load on hosts whose libstdc++ predates GLIBCXX_3.4.32
# (Debian 12 ships GCC 12's). Only one symbol needs that version: std::ios_base_library_init().
# We provide it from a tiny shim, mark the version requirement weak, drop the symbol's version and
# add the shim as a needed library. Idempotent; a no-op where the system libstdc++ is new enough.
# Usage: fix-torchsharp-glibcxx.sh <dir-containing-libLibTorchSharp.so> [<dir> ...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
shim_name="libvqtoken_glibcxx_shim.so"

libstdcxx=$( (ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}') || true)
[ -n "$libstdcxx" ] || libstdcxx=/usr/lib/x86_64-linux-gnu/libstdc++.so.6
if [ -f "$libstdcxx" ] && grep -q GLIBCXX_3.4.32 "$libstdcxx"; then
  exit 0 # new enough: nothing to fix
fi

need_tool() { # tool, debian package
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "fix-torchsharp-glibcxx: installing $2 (needed to patch TorchSharp for this libstdc++)" >&2
    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 ||
     { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1; })
  fi
  command -v "$1" >/dev/null 2>&1 || { echo "fix-torchsharp-glibcxx: error: '$1' is required (apt-get install $2)" >&2; exit 1; }
}

for dir in "$@"; do
  lib="$dir/libLibTorchSharp.so"
  [ -f "$lib" ] || continue
  if readelf -d "$lib" 2>/dev/null | grep -q "$shim_name"; then
    continue # already patched
  fi
  need_tool g++ g++
  need_tool patchelf patchelf
  need_tool python3 python3-minimal
  if [ ! -f "$dir/$shim_name" ]; then
    g++ -shared -fPIC -O2 -o "$dir/$shim_name" "$here/glibcxx-shim.cpp"
  fi
  python3 "$here/elf_weaken_verneed.py" "$lib" GLIBCXX_3.4.32
  patchelf --clear-symbol-version _ZSt21ios_base_library_initv "$lib"
  patchelf --add-needed "$shim_name" "$lib"
  echo "fix-torchsharp-glibcxx: patched $lib"
done
