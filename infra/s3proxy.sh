#!/usr/bin/env bash
# A real S3 server for edms's production tier on one machine and for CI: S3Proxy
# (org.gaul:s3proxy, its jar-with-dependencies from Maven Central, fetched by Maven) on loopback,
# objects on the local filesystem (jclouds' `filesystem` provider), every request signed
# (AWS signature v2 or v4) with an identity and a credential.
#
#   infra/s3proxy.sh start [DIR]   start it (DIR: its state and objects; default var/s3proxy),
#                                  wait until it answers, print its endpoint URL
#   infra/s3proxy.sh stop [DIR]    stop the server started in DIR
#
# Settings (environment): S3PROXY_VERSION (4.1.0), S3PROXY_PORT (default: a free port),
# S3PROXY_IDENTITY and S3PROXY_CREDENTIAL (the access key id and secret edms signs with; default
# edms / edms-secret), S3PROXY_JAVA_OPTS (-Xmx512m). Buckets are created through the S3 API.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/java-service.sh"

VERSION=${S3PROXY_VERSION:-4.1.0}
command=${1:-}
dir=$(realpath -m "${2:-$ROOT/var/s3proxy}")

case "$command" in
start)
    if running "$dir"; then
        echo "http://127.0.0.1:$(cat "$dir/port")"
        exit 0
    fi
    jar=$(fetch_jar "org.gaul:s3proxy:$VERSION:jar-with-dependencies") || exit 1
    port=${S3PROXY_PORT:-$(free_port)}
    mkdir -p "$dir/data"
    cat >"$dir/s3proxy.conf" <<CONF
s3proxy.endpoint=http://127.0.0.1:$port
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=${S3PROXY_IDENTITY:-edms}
s3proxy.credential=${S3PROXY_CREDENTIAL:-edms-secret}
jclouds.provider=filesystem
jclouds.filesystem.basedir=$dir/data
CONF
    echo "$port" >"$dir/port"
    # shellcheck disable=SC2086  # the options are words
    start_detached "$dir" "$JAVA" ${S3PROXY_JAVA_OPTS:--Xmx512m} -jar "$jar" \
        --properties "$dir/s3proxy.conf"
    wait_until_answers "$dir" "http://127.0.0.1:$port/" 120 "S3Proxy $VERSION"
    echo "http://127.0.0.1:$port"
    ;;
stop)
    stop_detached "$dir"
    ;;
*)
    echo "usage: $0 start|stop [DIR]" >&2
    exit 2
    ;;
esac
