#!/usr/bin/env bash
# A Tika server for edms's production tier and for CI: Apache Tika's standard server
# (org.apache.tika:tika-server-standard, from Maven Central, fetched by Maven) on loopback. It
# parses in a forked JVM that it restarts after a crash, an out-of-memory or a timeout.
#
#   infra/tika-server.sh start [DIR]   start it (DIR: its state; default var/tika-server), wait
#                                      until /tika answers, print its URL (edms's TIKA_SERVER_URL)
#   infra/tika-server.sh stop [DIR]    stop the server started in DIR
#
# Settings (environment): TIKA_SERVER_VERSION (3.3.2), TIKA_SERVER_PORT (default: a free port),
# TIKA_SERVER_HEAP (the parsing JVM's heap, 1g), TIKA_SERVER_TASK_TIMEOUT_MS (120000).
#
# After a file exhausts the parsing JVM's heap, that JVM usually exits and is back in seconds. When
# the out-of-memory error lands in its status-watcher thread instead, it answers 503 until the
# server finds its status stale, after the task timeout: up to two minutes. edms treats 503 as
# "the extractor is unavailable" and retries the extraction later, so nothing is lost meanwhile.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/java-service.sh"

VERSION=${TIKA_SERVER_VERSION:-3.3.2}
command=${1:-}
dir=$(realpath -m "${2:-$ROOT/var/tika-server}")

case "$command" in
start)
    if running "$dir"; then
        echo "http://127.0.0.1:$(cat "$dir/port")"
        exit 0
    fi
    jar=$(fetch_jar "org.apache.tika:tika-server-standard:$VERSION") || exit 1
    port=${TIKA_SERVER_PORT:-$(free_port)}
    mkdir -p "$dir"
    # returnStackTrace: a parse error's HTTP 422 then names its cause (a password, a damaged
    # file), which edms turns into a reason a person can read.
    cat >"$dir/tika-config.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<properties>
  <server>
    <params>
      <host>127.0.0.1</host>
      <port>$port</port>
      <returnStackTrace>true</returnStackTrace>
      <taskTimeoutMillis>${TIKA_SERVER_TASK_TIMEOUT_MS:-120000}</taskTimeoutMillis>
      <forkedJvmArgs>
        <arg>-Xmx${TIKA_SERVER_HEAP:-1g}</arg>
      </forkedJvmArgs>
    </params>
  </server>
</properties>
XML
    echo "$port" >"$dir/port"
    start_detached "$dir" "$JAVA" -Xmx256m -jar "$jar" -c "$dir/tika-config.xml"
    wait_until_answers "$dir" "http://127.0.0.1:$port/tika" 180 "Tika server $VERSION"
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
