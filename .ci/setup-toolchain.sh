#!/usr/bin/env bash
# Installs what building the wasm fixtures needs, when missing: Debian's clang, lld,
# wasi-libc and the wasm32 compiler runtime (C -> wasm32-wasi), bubblewrap (the build sandbox), and componentize-py
# (Python -> component, pinned), Rust with the wasm32-wasip2 target. componentize-js comes with `npm ci`.
set -euo pipefail
componentize_py_version="0.25.1"
# MCP clients the tests drive Airlock's server with (test/mcp/python-client*.test.ts): the official MCP Python
# SDK and three clients built on it. fastmcp 4 needs mcp 2, so fastmcp stays on 3.4.x. Bump mcp_venv_name
# when a pin changes, so a cached virtualenv without it is not reused.
mcp_venv_name="mcp-python-2"
mcp_python_pins=(mcp==1.30.0 jsonschema==4.26.0 fastmcp==3.4.11 openai-agents==0.24.0 langchain-mcp-adapters==0.3.2 langchain-core==1.8.3)

missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
command -v wasm-ld >/dev/null 2>&1 || missing+=(lld)
[ -d /usr/include/wasm32-wasi ] || [ -d /usr/lib/wasm32-wasi ] || missing+=(wasi-libc)
ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1 || missing+=(libclang-rt-14-dev-wasm32)
# Every build of plugin code runs under bubblewrap (src/build/sandbox.ts).
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
# The trust tests (test/trust/): minisign checks Airlock's signatures both ways; docker-registry is the real OCI
# registry `airlock push`/`pull` are tested against, on loopback.
command -v minisign >/dev/null 2>&1 || missing+=(minisign)
[ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
# Rust build scripts and proc macros are linked for the host with `cc`.
command -v cc >/dev/null 2>&1 || missing+=(gcc)
# The remote-Docker tests make their CA and certificates with it (test/engines/docker/remote/tls-daemon.ts).
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# The status page's browser test (test/status/page.test.ts) drives Debian's headless chromium.
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "ci: installing ${missing[*]} from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

if ! componentize-py --version 2>/dev/null | grep -q "$componentize_py_version"; then
  echo "ci: installing componentize-py $componentize_py_version from PyPI" >&2
  python3 -m pip install -q --disable-pip-version-check "componentize-py==$componentize_py_version"
fi
# Rust plugins (airlock init --template rust, test/build/rust.test.ts) need cargo and the WASI 0.2 target.
# Crates are downloaded into Airlock's own CARGO_HOME (~/.cache/airlock/cargo-home, kept between runs);
# each build compiles in a target folder of its own (see src/build/rust.ts), its component cached by content.
if ! command -v rustup >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/rustup" ]; then
  echo "ci: installing Rust (rustup, minimal profile)" >&2
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y -q --profile minimal >/dev/null
fi
export PATH="$HOME/.cargo/bin:$PATH"
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  echo "ci: installing the Rust target wasm32-wasip2" >&2
  rustup target add wasm32-wasip2 >/dev/null
fi
mcp_venv="${AIRLOCK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/airlock}/$mcp_venv_name"
if ! "$mcp_venv/bin/python" -c 'import mcp, jsonschema, fastmcp, agents.mcp, langchain_mcp_adapters.client' 2>/dev/null; then
  echo "ci: installing MCP Python clients (${mcp_python_pins[*]}) into $mcp_venv" >&2
  python3 -m venv "$mcp_venv"
  "$mcp_venv/bin/pip" install -q --disable-pip-version-check "${mcp_python_pins[@]}"
fi
echo "ci: toolchain: $(clang --version | head -n 1); $(componentize-py --version); $(rustc --version) with wasm32-wasip2; MCP Python clients in $mcp_venv" >&2
