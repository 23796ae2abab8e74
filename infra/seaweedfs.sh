#!/usr/bin/env bash
# A real S3 server with Object Lock (versioning, retention, legal hold) for edms's tests and CI:
# SeaweedFS (Apache-2.0), its `weed mini` (master, volume server, filer and S3 gateway in one
# process) on loopback, objects under DIR, every request signed with an access key and secret.
# S3Proxy (infra/s3proxy.sh) answers 501 to Object Lock; this one implements it.
#
#   infra/seaweedfs.sh build         build (or reuse) the `weed` binary, print its path
#   infra/seaweedfs.sh start [DIR]   start it (DIR: its state and objects; default
#                                    var/seaweedfs), wait until S3 answers, print its endpoint
#   infra/seaweedfs.sh stop [DIR]    stop the server started in DIR
#
# The binary is built with the Go toolchain from the Go module of SeaweedFS at SEAWEEDFS_VERSION
# (the module's own go.sum pins every dependency) into SEAWEEDFS_CACHE (default
# ~/.cache/edms-seaweedfs), once per version: measured here from a cold module cache (downloads
# included) 20.6 min wall under nice 19 on 2 cores shared with a load of ~20, for 6.1 min user +
# 1.3 min system CPU (so a few minutes on an idle machine); a 230 MB binary. It starts in ~8 s.
#
# Settings (environment): SEAWEEDFS_VERSION, SEAWEEDFS_CACHE, SEAWEEDFS_PORT (the S3 port; default:
# a free port, chosen once per DIR like the server's other ports, kept in DIR/ports), SEAWEEDFS_ACCESS_KEY and SEAWEEDFS_SECRET_KEY (default edms / edms-secret), GO (the
# go command; default go on PATH, else /usr/local/go/bin/go). Buckets are made through the S3 API
# (with ObjectLockEnabledForBucket for Object Lock).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# free_port, start_detached, running, wait_until_answers, stop_detached (nothing Java-specific).
source "$ROOT/infra/java-service.sh"

MODULE=github.com/seaweedfs/seaweedfs
VERSION=${SEAWEEDFS_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}
CACHE=${SEAWEEDFS_CACHE:-$HOME/.cache/edms-seaweedfs}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
command=${1:-}

build() { # prints the binary's path
    local binary="$CACHE/weed-$VERSION"
    if [[ -x "$binary" ]]; then
        echo "$binary"
        return 0
    fi
    mkdir -p "$CACHE"
    # Built as the main module in its own (read-only) module directory: `go install module@v`
    # refuses a module whose go.mod has replace directives, as SeaweedFS's has.
    local source
    source=$(GOFLAGS=-mod=mod "$GO" mod download -json "$MODULE@$VERSION" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
    (cd "$source" && GOFLAGS=-mod=readonly GOTOOLCHAIN=local \
        "$GO" build -trimpath -o "$binary.part" ./weed) >&2
    mv "$binary.part" "$binary"
    echo "$binary"
}

case "$command" in
build)
    build
    ;;
start)
    dir=$(realpath -m "${2:-$ROOT/var/seaweedfs}")
    if running "$dir"; then
        echo "http://127.0.0.1:$(cat "$dir/port")"
        exit 0
    fi
    binary=$(build)
    mkdir -p "$dir/data"
    # Ports chosen once per DIR and kept: the master's state in DIR names its volume server by
    # address, and one that comes back on another port is refused (volume growth frozen).
    if [[ ! -s "$dir/ports" ]]; then
        {
            echo "port=${SEAWEEDFS_PORT:-$(free_port)}"
            for name in master master_grpc volume volume_grpc filer filer_grpc s3_grpc admin \
                admin_grpc; do
                echo "${name}_port=$(free_port)"
            done
        } >"$dir/ports"
    fi
    source "$dir/ports"
    cat >"$dir/s3.json" <<JSON
{"identities": [{"name": "edms",
  "credentials": [{"accessKey": "${SEAWEEDFS_ACCESS_KEY:-edms}",
                   "secretKey": "${SEAWEEDFS_SECRET_KEY:-edms-secret}"}],
  "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}
JSON
    echo "$port" >"$dir/port"
    # Every listener on loopback and on a free port (gRPC ports too: by default they are the
    # HTTP port + 10000, which may be taken; the admin server, which starts even without its UI,
    # has fixed ports by default); no WebDAV, admin UI, Iceberg or Lance servers;
    # no telemetry (it would report to the SeaweedFS project).
    start_detached "$dir" "$binary" mini -dir="$dir/data" \
        -ip=127.0.0.1 -ip.bind=127.0.0.1 \
        -master.port="$master_port" -master.port.grpc="$master_grpc_port" \
        -master.telemetry=false \
        -volume.port="$volume_port" -volume.port.grpc="$volume_grpc_port" \
        -filer.port="$filer_port" -filer.port.grpc="$filer_grpc_port" \
        -s3.port="$port" -s3.port.grpc="$s3_grpc_port" -s3.port.iceberg=0 -s3.port.lance=0 \
        -admin.port="$admin_port" -admin.port.grpc="$admin_grpc_port" -admin.port.legacy=0 \
        -s3.config="$dir/s3.json" -webdav=false -admin.ui=false
    wait_until_answers "$dir" "http://127.0.0.1:$port/" 120 "SeaweedFS $VERSION"
    echo "http://127.0.0.1:$port"
    ;;
stop)
    stop_detached "$(realpath -m "${2:-$ROOT/var/seaweedfs}")"
    ;;
*)
    echo "usage: $0 build|start|stop [DIR]" >&2
    exit 2
    ;;
esac
