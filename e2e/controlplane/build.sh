#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kubectl and helm from Go
# modules, once per machine. Binaries are cached by version under
# ${TFCMCP_CACHE:-~/.cache/tfc-mcp}/bin/<component>-<version>/ and reused.
# Prints the bin directory on stdout's last line; progress goes to stderr.
# Usage: build.sh [etcd] [kubernetes] [helm] [paths]   (default: etcd kubernetes)
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.34.4}
ETCD_VERSION=${ETCD_VERSION:-v3.6.5}
HELM_VERSION=${HELM_VERSION:-v3.19.0}
CACHE=${TFCMCP_CACHE:-$HOME/.cache/tfc-mcp}
BIN="$CACHE/bin"
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local

log() { printf '[controlplane] %s\n' "$*" >&2; }

# Run a long command while printing a heartbeat, so nobody stares at a silent terminal.
with_heartbeat() {
  local what=$1; shift
  local start=$SECONDS
  "$@" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 15
    kill -0 "$pid" 2>/dev/null && log "$what: still building ($((SECONDS - start))s)"
  done
  wait "$pid"
  log "$what: done in $((SECONDS - start))s"
}

build_k8s() {
  local out="$BIN/kubernetes-$K8S_VERSION"
  if [[ -x $out/kube-apiserver && -x $out/kube-controller-manager && -x $out/kubectl ]]; then
    log "kubernetes $K8S_VERSION: cached in $out"; return
  fi
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local staging="v0.${K8S_VERSION#v1.}"
  local src="$CACHE/src/kubernetes-$K8S_VERSION"
  mkdir -p "$src" "$out.tmp"
  cat > "$src/go.mod" <<MOD
module tfcmcp.dev/controlplane

go 1.24

require k8s.io/kubernetes $K8S_VERSION
MOD
  local m
  for m in api apiextensions-apiserver apimachinery apiserver cli-runtime \
    client-go cloud-provider cluster-bootstrap code-generator component-base \
    component-helpers controller-manager cri-api cri-client csi-translation-lib \
    dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator \
    kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics \
    mount-utils pod-security-admission sample-apiserver sample-cli-plugin \
    sample-controller; do
    echo "replace k8s.io/$m => k8s.io/$m $staging" >> "$src/go.mod"
  done
  cat > "$src/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  log "kubernetes $K8S_VERSION: resolving modules"
  (cd "$src" && go mod tidy -e >/dev/null 2>&1 || true)
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
  local cmd
  for cmd in kube-apiserver kube-controller-manager kubectl; do
    log "kubernetes $K8S_VERSION: building $cmd (a first build takes many minutes on two cores)"
    (cd "$src" && with_heartbeat "$cmd" go build -trimpath -ldflags "$ld" -o "$out.tmp/$cmd" "k8s.io/kubernetes/cmd/$cmd")
  done
  rm -rf "$out"; mv "$out.tmp" "$out"
}

build_etcd() {
  local out="$BIN/etcd-$ETCD_VERSION"
  if [[ -x $out/etcd ]]; then log "etcd $ETCD_VERSION: cached in $out"; return; fi
  local src="$CACHE/src/etcd-$ETCD_VERSION"
  mkdir -p "$src" "$out.tmp"
  cat > "$src/go.mod" <<MOD
module tfcmcp.dev/etcdbuild

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION

replace (
	go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 $ETCD_VERSION
	go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 $ETCD_VERSION
)
MOD
  cat > "$src/tools.go" <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  log "etcd $ETCD_VERSION: resolving modules"
  (cd "$src" && go mod tidy -e >/dev/null 2>&1 || true)
  (cd "$src" && with_heartbeat etcd go build -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3)
  rm -rf "$out"; mv "$out.tmp" "$out"
}

build_helm() {
  local out="$BIN/helm-$HELM_VERSION"
  if [[ -x $out/helm ]]; then log "helm $HELM_VERSION: cached in $out"; return; fi
  mkdir -p "$out.tmp"
  log "helm $HELM_VERSION: building"
  # Stamp like helm's Makefile: its version, and the Kubernetes version that
  # `helm template`/`helm lint` assume (client-go v0.N -> 1.N; unstamped: 1.20).
  local gomod kminor
  gomod=$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  kminor=$(sed -n 's/^[[:space:]]*k8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$gomod" | head -n1)
  local ld="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  if [[ -n $kminor ]]; then
    local pkg
    for pkg in pkg/lint/rules pkg/chartutil; do
      ld="$ld -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$kminor"
    done
  fi
  with_heartbeat helm env GOBIN="$out.tmp" go install -trimpath -ldflags "$ld" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  rm -rf "$out"; mv "$out.tmp" "$out"
}

# Serialise builds of one component across processes (start.sh builds helm in
# the background; parallel test runs may call this at once). The build_*
# functions re-check the cache once they hold the lock.
with_lock() {
  local name=$1 fd; shift
  mkdir -p "$CACHE/locks"
  exec {fd}>"$CACHE/locks/$name.lock"
  if ! flock -n "$fd"; then
    log "$name: another build is running, waiting for it"
    flock "$fd"
  fi
  "$@"
  exec {fd}>&-
}

# "paths": print component=<bin dir> lines for the configured versions, build nothing.
print_paths() {
  echo "etcd=$BIN/etcd-$ETCD_VERSION"
  echo "kubernetes=$BIN/kubernetes-$K8S_VERSION"
  echo "helm=$BIN/helm-$HELM_VERSION"
}

mkdir -p "$BIN"
for what in "${@:-etcd kubernetes}"; do
  for w in $what; do
    case $w in
      etcd) with_lock etcd build_etcd ;;
      kubernetes) with_lock kubernetes build_k8s ;;
      helm) with_lock helm build_helm ;;
      paths) print_paths ;;
      *) log "unknown component $w"; exit 2 ;;
    esac
  done
done
echo "$BIN"
