#!/usr/bin/env bash
# Installs the pinned wasmtime CLI into Airlock's cache, or reuses the copy already there.
# Prints the binary's path on the last line of stdout. A cold build takes about 8 minutes on 2 cores.
#   .ci/install-wasmtime.sh            # reuse or build
#   WASMTIME=$(.ci/install-wasmtime.sh | tail -n 1)
set -euo pipefail
version="48.0.8"
airlock_cache="${AIRLOCK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/airlock}"
root="$airlock_cache/wasmtime-$version"
bin="$root/bin/wasmtime"

if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "^wasmtime $version"; then
  echo "ci: wasmtime $version cached at $bin" >&2
  echo "$bin"
  exit 0
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "ci: cargo not found; install Rust (https://rustup.rs) to build wasmtime $version, or set AIRLOCK_WASMTIME to an existing binary" >&2
  exit 1
fi

echo "ci: building wasmtime $version with cargo into $root (about 8 minutes on 2 cores)" >&2
start=$(date +%s)
# One job per core at most: CI machines are small and shared.
cargo install wasmtime-cli --version "$version" --locked --root "$root" --jobs "$(nproc 2>/dev/null || echo 2)" >&2
echo "ci: wasmtime built in $(( $(date +%s) - start ))s" >&2
"$bin" --version >&2
echo "$bin"
