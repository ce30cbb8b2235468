#!/usr/bin/env bash
# Builds (once) and caches what the test cluster (test/cluster/cluster.ts) needs, from the registries this
# machine reaches: Kubernetes' four node commands from the Go module proxy, containerd from its Go module,
# etcd, runc and the CNI plugins from Debian, and the pause image from its C source in the Kubernetes module.
# Idempotent: each piece is skipped when its cached output exists. Prints `export NAME=value` lines on
# stdout (for `.ci/run` to eval); progress and timings go to stderr.
set -euo pipefail
k8s_version="1.37.2"
staging_version="0.37.2"
containerd_version="2.4.2"
cache="${AIRLOCK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/airlock}/k8s-$k8s_version"
mkdir -p "$cache"

step_start=0
step() { step_start=$(date +%s); echo "cluster: $1" >&2; }
done_step() { echo "cluster: $1 took $(( $(date +%s) - step_start ))s" >&2; }

# Go: the Kubernetes module needs go >= 1.26 (its go.mod); the official toolchain in /usr/local/go is used when
# `go` is not on PATH.
command -v go >/dev/null 2>&1 || export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null 2>&1 || { echo "cluster: go (>= 1.26) is required to build Kubernetes and containerd" >&2; exit 1; }

# Debian packages: etcd (the API server's store), runc (containerd's runtime), the CNI plugins (pod network).
missing=()
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v runc >/dev/null 2>&1 || missing+=(runc)
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
# kube-router's firewall (NetworkPolicy enforcement, step 4) programs ipsets.
command -v ipset >/dev/null 2>&1 || [ -x /usr/sbin/ipset ] || missing+=(ipset)
# The static pause binary links against glibc's static archive (libc6-dev).
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || [ -f /usr/lib/libc.a ] || missing+=(libc6-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  step "installing ${missing[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
  done_step "Debian packages"
fi

# 1. kube-apiserver, kube-controller-manager, kube-scheduler, kubelet: a wrapper module that requires
# k8s.io/kubernetes and pins every staging module (k8s.io/kubernetes' own go.mod replaces them with ./staging,
# which a module consumer cannot see), then `go build` of each command.
kbin="$cache/bin"
commands=(kube-apiserver kube-controller-manager kube-scheduler kubelet)
need_build=0
for c in "${commands[@]}"; do [ -x "$kbin/$c" ] || need_build=1; done
if [ "$need_build" = 1 ]; then
  step "building Kubernetes $k8s_version (${commands[*]}; about 8 minutes on 2 idle cores)"
  mod="$cache/module"
  mkdir -p "$mod" "$kbin"
  staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider cluster-bootstrap
    code-generator component-base component-helpers controller-manager cri-api cri-client cri-streaming
    csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator
    kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission
    sample-apiserver sample-cli-plugin sample-controller streaming)
  {
    echo "module airlock.local/kubebuild"
    echo
    echo "go 1.26.0"
    echo
    echo "require k8s.io/kubernetes v$k8s_version"
    echo
    echo "replace ("
    for s in "${staging[@]}"; do echo "	k8s.io/$s => k8s.io/$s v$staging_version"; done
    echo ")"
  } >"$mod/go.mod"
  cat >"$mod/tools.go" <<'GO'
//go:build tools

package kubebuild

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
GO
  (cd "$mod" && GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true)
  for c in "${commands[@]}"; do
    [ -x "$kbin/$c" ] && continue
    (cd "$mod" && GOFLAGS=-mod=mod go build -trimpath -ldflags=-s -o "$kbin/$c.tmp" "k8s.io/kubernetes/cmd/$c" && mv "$kbin/$c.tmp" "$kbin/$c")
  done
  done_step "Kubernetes binaries"
fi

# 2. containerd, its runc shim and ctr (to import the pause image), from the containerd module.
cbin="$cache/containerd-$containerd_version"
if [ ! -x "$cbin/containerd" ] || [ ! -x "$cbin/containerd-shim-runc-v2" ] || [ ! -x "$cbin/ctr" ]; then
  step "building containerd $containerd_version"
  mkdir -p "$cbin"
  GOBIN="$cbin" go install -trimpath -ldflags=-s \
    "github.com/containerd/containerd/v2/cmd/containerd@v$containerd_version" \
    "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@v$containerd_version" \
    "github.com/containerd/containerd/v2/cmd/ctr@v$containerd_version"
  done_step "containerd"
fi

# 3. The pause image, as an OCI archive that `ctr images import` loads into each test cluster's containerd:
# the static pause binary built from build/pause/linux/pause.c of the Kubernetes module (as its Makefile does).
pause_tar="$cache/pause.oci.tar"
if [ ! -s "$pause_tar" ]; then
  step "building the pause image"
  src="$(cd "$cache" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v$k8s_version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [ -f "$src/build/pause/linux/pause.c" ] || { echo "cluster: pause.c not found in the Kubernetes module ($src)" >&2; exit 1; }
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/rootfs" "$work/oci/blobs/sha256"
  gcc -Os -Wall -Werror -static -DVERSION="v$k8s_version-airlock" -o "$work/rootfs/pause" "$src/build/pause/linux/pause.c"
  strip "$work/rootfs/pause"
  # Reproducible layer: fixed owner and time, so the digest only changes with the binary.
  tar --sort=name --owner=65535 --group=65535 --numeric-owner --mtime=@0 -C "$work/rootfs" -cf "$work/layer.tar" pause
  blob() { # file media-type -> prints the descriptor JSON after storing the blob
    local d s
    d="$(sha256sum "$1" | cut -d' ' -f1)"
    s="$(stat -c %s "$1")"
    cp "$1" "$work/oci/blobs/sha256/$d"
    printf '{"mediaType":"%s","digest":"sha256:%s","size":%s}' "$2" "$d" "$s"
  }
  layer_desc="$(blob "$work/layer.tar" application/vnd.oci.image.layer.v1.tar)"
  layer_digest="$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
  printf '{"architecture":"amd64","os":"linux","config":{"User":"65535:65535","Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"airlock .ci/setup-cluster.sh: pause.c from k8s.io/kubernetes v%s"}]}' \
    "$layer_digest" "$k8s_version" >"$work/config.json"
  config_desc="$(blob "$work/config.json" application/vnd.oci.image.config.v1+json)"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}' \
    "$config_desc" "$layer_desc" >"$work/manifest.json"
  manifest_desc="$(blob "$work/manifest.json" application/vnd.oci.image.manifest.v1+json)"
  printf '{"schemaVersion":2,"manifests":[%s]}' \
    "${manifest_desc%\}},\"annotations\":{\"org.opencontainers.image.ref.name\":\"airlock.local/pause:$k8s_version\"},\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}" \
    >"$work/oci/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
  tar --sort=name --mtime=@0 -C "$work/oci" -cf "$pause_tar.tmp" oci-layout index.json blobs
  mv "$pause_tar.tmp" "$pause_tar"
  done_step "pause image"
fi

# 4. NetworkPolicy enforcement for the test cluster (test/cluster/network-policy.ts): kube-router, whose firewall
# controller alone runs as a host process. v2.1.0 is the version the Go module proxy offers here.
kube_router_version="2.1.0"
kr_bin="${AIRLOCK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/airlock}/kube-router-$kube_router_version/bin"
if [ ! -x "$kr_bin/kube-router" ]; then
  step "building kube-router $kube_router_version"
  mkdir -p "$kr_bin"
  GOBIN="$kr_bin" go install -trimpath -ldflags=-s "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@v$kube_router_version"
  done_step "kube-router"
fi

echo "export AIRLOCK_CLUSTER_DIR=$cache"
