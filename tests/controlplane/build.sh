#!/usr/bin/env bash
# Builds the test control plane's binaries from the Go module proxy into a cache outside the
# repository, and only those that are missing:
#
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok, helm
#
# and, into its crds/ folder, the CRDs of the other projects the Helm chart makes objects of
# (Prometheus Operator's ServiceMonitor and PrometheusRule, Kueue's LocalQueue) from their Go
# modules, pinned by tools/crds/go.mod and go.sum.
#
# into ${YOKEFLOW_TESTBIN_ROOT:-~/.cache/yokeflow/testbin}/<version key>/ (the key names every
# version in versions.env, so a bump builds into a fresh directory and old ones stay usable).
# Sources are the committed wrapper modules in tools/<tool>/ (go.mod + go.sum, -mod=readonly):
# nothing is fetched but what their go.sum pins. Each binary is linked to a temporary name and
# renamed into place, so an interrupted build never leaves a half-written binary behind.
#
# Usage: build.sh            build what is missing, print the binary directory last
#        build.sh --print-dir   print the binary directory only (builds nothing)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
tools="$here/tools"

key="k8s-${KUBERNETES_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_helm-${HELM_VERSION}"
root="${YOKEFLOW_TESTBIN_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/yokeflow/testbin}"
out="$root/$key"

if [ "${1:-}" = "--print-dir" ]; then
    echo "$out"
    exit 0
fi

export PATH="/usr/local/go/bin:$PATH"
export GOPATH="${GOPATH:-$HOME/go}"
export GOMODCACHE="${GOMODCACHE:-$GOPATH/pkg/mod}"
export GOCACHE="${GOCACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/go-build}"
export GOFLAGS="-mod=readonly -buildvcs=false -trimpath -p=${YOKEFLOW_BUILD_JOBS:-2}"
export CGO_ENABLED=0
command -v go >/dev/null || { echo "build.sh: the Go toolchain (go) is not on PATH" >&2; exit 1; }

mkdir -p "$out"

# build TOOL_DIR NAME PACKAGE LDFLAGS: build one binary unless it is already in the cache.
build() {
    local dir="$1" name="$2" package="$3" ldflags="$4" started
    if [ -x "$out/$name" ]; then
        echo "cached  $name"
        return
    fi
    started=$(date +%s)
    echo "build   $name ($package)"
    (cd "$tools/$dir" && go build -ldflags "-s -w $ldflags" -o "$out/.$name.partial" "$package")
    mv -f "$out/.$name.partial" "$out/$name"
    echo "built   $name in $(( $(date +%s) - started ))s"
}

# The staging replace list must be the one the release's own go.mod implies: regenerate it from
# that go.mod and compare, so a hand edit or a half-done version bump fails loudly here.
check_kubernetes_replaces() {
    local gomod want have
    gomod="$(cd "$tools/kubernetes" && go mod download -json "k8s.io/kubernetes@${KUBERNETES_VERSION}" \
        | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')"
    want="$(awk -v v="v0.${KUBERNETES_VERSION#v1.}" \
        '$2 == "=>" && $3 ~ /^\.\/staging\// { print $1 " " v }' "$gomod" | sort)"
    have="$(cd "$tools/kubernetes" && go mod edit -json \
        | awk '/"Old":/ {getline p; sub(/.*"Path": "/, "", p); sub(/".*/, "", p); o=p}
               /"New":/ {getline p; getline v; sub(/.*"Version": "/, "", v); sub(/".*/, "", v); print o " " v}' \
        | sort)"
    if [ "$want" != "$have" ]; then
        echo "build.sh: tools/kubernetes/go.mod's replace list does not match k8s.io/kubernetes@${KUBERNETES_VERSION}'s staging modules;" >&2
        echo "          run tests/controlplane/update-wrappers.sh" >&2
        diff <(echo "$want") <(echo "$have") >&2 || true
        exit 1
    fi
}

started=$(date +%s)

build etcd etcd go.etcd.io/etcd/server/v3 \
    "-X go.etcd.io/etcd/api/v3/version.GitSHA=${ETCD_VERSION}"

k8s_missing=0
for name in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [ -x "$out/$name" ] || k8s_missing=1
done
if [ "$k8s_missing" = 1 ]; then
    check_kubernetes_replaces
fi
major="${KUBERNETES_VERSION#v}"; major="${major%%.*}"
minor="${KUBERNETES_VERSION#v*.}"; minor="${minor%%.*}"
k8s_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    k8s_ldflags+=" -X ${pkg}.gitVersion=${KUBERNETES_VERSION}"
    k8s_ldflags+=" -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor}"
    k8s_ldflags+=" -X ${pkg}.gitTreeState=clean"
done
for name in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    build kubernetes "$name" "k8s.io/kubernetes/cmd/$name" "$k8s_ldflags"
done

build kwok kwok sigs.k8s.io/kwok/cmd/kwok ""
build helm helm helm.sh/helm/v3/cmd/helm \
    "-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}"

# The CRDs the chart's tests install into the test API server (see tools/crds/go.mod).
if [ ! -f "$out/crds/kueue.x-k8s.io_localqueues.yaml" ]; then
    echo "fetch   CRDs of prometheus-operator and kueue"
    dirs="$(cd "$tools/crds" && go mod download -json \
        github.com/prometheus-operator/prometheus-operator sigs.k8s.io/kueue \
        | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
    mkdir -p "$out/.crds.partial"
    for dir in $dirs; do
        for file in example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml \
                    example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml \
                    config/components/crd/bases/kueue.x-k8s.io_localqueues.yaml; do
            [ -f "$dir/$file" ] && cp "$dir/$file" "$out/.crds.partial/"
        done
    done
    rm -rf "$out/crds"
    mv "$out/.crds.partial" "$out/crds"
fi

cat > "$out/VERSIONS" <<VERSIONS
kubernetes ${KUBERNETES_VERSION}
etcd ${ETCD_VERSION}
kwok ${KWOK_VERSION}
helm ${HELM_VERSION}
$(go version)
VERSIONS
echo "done in $(( $(date +%s) - started ))s"
echo "$out"
