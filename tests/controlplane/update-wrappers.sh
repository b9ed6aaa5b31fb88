#!/usr/bin/env bash
# Regenerates the wrapper Go modules under tests/controlplane/tools/ from versions.env.
#
# A wrapper module is a tiny go.mod whose `tool` directives name the commands we build, so that
# `go build` can build a `main` package of a module that cannot be `go install`ed directly
# (etcd's and Kubernetes' go.mod files carry replace directives). For Kubernetes the staging
# replace list (k8s.io/api => ./staging/src/k8s.io/api, ...) is read from the real go.mod of the
# chosen release and each staging module is pointed at its published v0.Y.Z instead.
#
# Needs the Go module proxy. Run it only when bumping a version; the results are committed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
export PATH="/usr/local/go/bin:$PATH"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
tools="$here/tools"

# new_module DIR MODULE_PATH: start an empty wrapper module in DIR.
new_module() {
    rm -rf "$1"
    mkdir -p "$1"
    (cd "$1" && go mod init "$2" >/dev/null 2>&1)
}

# staging_replaces K8S_VERSION: print "module version" for every staging module of that release,
# read from the release's own go.mod.
staging_replaces() {
    local k8s_version="$1" minor gomod
    minor="v0.${k8s_version#v1.}"
    gomod="$(go mod download -json "k8s.io/kubernetes@${k8s_version}" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')"
    awk -v v="$minor" '$2 == "=>" && $3 ~ /^\.\/staging\// { print $1, v }' "$gomod"
}

# godebug_line K8S_VERSION: the release's `godebug` directive, so our binaries keep its defaults.
k8s_gomod_directive() {
    local gomod
    gomod="$(go mod download -json "k8s.io/kubernetes@$1" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')"
    awk -v d="$2" '$1 == d { $1 = ""; sub(/^ /, ""); print; exit }' "$gomod"
}

echo "== etcd $ETCD_VERSION"
new_module "$tools/etcd" yokeflow.local/testtools/etcd
(cd "$tools/etcd" && go get -tool "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" && go mod tidy)

echo "== kubernetes $KUBERNETES_VERSION"
new_module "$tools/kubernetes" yokeflow.local/testtools/kubernetes
(
    cd "$tools/kubernetes"
    go mod edit -go="$(k8s_gomod_directive "$KUBERNETES_VERSION" go)"
    godebug="$(k8s_gomod_directive "$KUBERNETES_VERSION" godebug)"
    if [ -n "$godebug" ]; then go mod edit -godebug="$godebug"; fi
    args=()
    while read -r module version; do
        args+=("-replace=${module}=${module}@${version}")
    done < <(staging_replaces "$KUBERNETES_VERSION")
    go mod edit "${args[@]}"
    go mod edit -require="k8s.io/kubernetes@${KUBERNETES_VERSION}"
    go get -tool \
        k8s.io/kubernetes/cmd/kube-apiserver \
        k8s.io/kubernetes/cmd/kube-controller-manager \
        k8s.io/kubernetes/cmd/kube-scheduler \
        k8s.io/kubernetes/cmd/kubectl
    go mod tidy
)

echo "== kwok $KWOK_VERSION"
new_module "$tools/kwok" yokeflow.local/testtools/kwok
(cd "$tools/kwok" && go get -tool "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}" && go mod tidy)

echo "== helm $HELM_VERSION"
new_module "$tools/helm" yokeflow.local/testtools/helm
(cd "$tools/helm" && go get -tool "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" && go mod tidy)

echo "wrappers updated under $tools"
