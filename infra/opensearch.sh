#!/usr/bin/env bash
# Real OpenSearch 2.19 nodes on loopback, from the Maven launcher in infra/opensearch/.
#
#   infra/opensearch.sh start [--nodes N] [--port HTTP_PORT] [--dir DIR]
#   infra/opensearch.sh stop  [--dir DIR]
#   infra/opensearch.sh kill-node K  [--dir DIR]
#   infra/opensearch.sh start-node K [--dir DIR]
#
# `start` builds the launcher when it is missing (Maven; `make opensearch` does the same), starts
# N nodes (default 1) named node1..nodeN with HTTP on 127.0.0.1:HTTP_PORT.. (default 9200) and
# transport 100 ports above, one cluster "edms" (N > 1: every node seeds from all and all are
# initial cluster managers), data and logs under DIR/nodeK (default var/opensearch), and waits
# until the cluster has its N nodes and is yellow or green. It prints OPENSEARCH_URL=... last.
# OPENSEARCH_HEAP sets each node's heap (default 512m).
#
# `kill-node K` kills node K with SIGKILL, as a crash would (no clean shutdown); `start-node K`
# starts it again with the settings `start` recorded in DIR/cluster and waits until the cluster
# has all its nodes again (the other nodes keep serving meanwhile). For chaos tests.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAUNCHER="$ROOT/infra/opensearch"
JAR="$LAUNCHER/target/opensearch-node-1.jar"

command=${1:-}
shift || true
node=""
if [[ $command == kill-node || $command == start-node ]]; then
    node=${1:-}
    [[ $node =~ ^[1-9][0-9]*$ ]] || { echo "$command needs a node number" >&2 && exit 2; }
    shift
fi
nodes=1 port=9200 dir="$ROOT/var/opensearch"
while (($#)); do
    case $1 in
    --nodes) nodes=$2 && shift 2 ;;
    --port) port=$2 && shift 2 ;;
    --dir) dir=$2 && shift 2 ;;
    *) echo "unknown option $1" >&2 && exit 2 ;;
    esac
done

launch() { # k: starts node k of the cluster `nodes`/`port` describe, in the background
    local k=$1 home="$dir/node$1" seeds="" managers=""
    if ((nodes > 1)); then
        seeds=$(seq -s, $((port + 100)) $((port + 99 + nodes)))
        managers=$(seq -f 'node%g' -s, 1 "$nodes")
    fi
    mkdir -p "$home"
    if [[ -f $home/pid ]] && kill -0 "$(cat "$home/pid")" 2>/dev/null; then
        echo "node$k already runs (pid $(cat "$home/pid"))" >&2
        exit 1
    fi
    java -Xms"${OPENSEARCH_HEAP:-512m}" -Xmx"${OPENSEARCH_HEAP:-512m}" \
        -cp "$JAR:$LAUNCHER/target/lib/*:$LAUNCHER/target/knn/*" edms.infra.OpenSearchNode \
        "$home" "node$k" $((port + k - 1)) $((port + 99 + k)) edms "$seeds" "$managers" \
        >>"$home/node.log" 2>&1 &
    echo $! >"$home/pid"
}

await_health() { # waits until the cluster has its `nodes` nodes and is yellow or green
    local url="http://127.0.0.1:$port" deadline=$((SECONDS + 300)) k
    until curl -sf "$url/_cluster/health?wait_for_status=yellow&wait_for_nodes=$nodes&timeout=5s" \
        >/dev/null 2>&1; do
        if ((SECONDS > deadline)); then
            echo "OpenSearch did not become healthy in 300 s; logs: $dir/node*/node.log" >&2
            return 1
        fi
        for ((k = 1; k <= nodes; k++)); do
            if ! kill -0 "$(cat "$dir/node$k/pid" 2>/dev/null)" 2>/dev/null; then
                echo "node$k exited; its log:" >&2
                tail -n 40 "$dir/node$k/node.log" >&2
                return 1
            fi
        done
        sleep 1
    done
}

start() {
    make -s -C "$ROOT" --no-print-directory opensearch
    mkdir -p "$dir"
    echo "$nodes $port" >"$dir/cluster"
    local k
    for ((k = 1; k <= nodes; k++)); do
        launch "$k"
    done
    await_health || {
        stop
        exit 1
    }
    echo "OpenSearch: $nodes node(s) healthy after ${SECONDS} s"
    echo "OPENSEARCH_URL=$(seq -f "http://127.0.0.1:%g" -s, "$port" $((port + nodes - 1)))"
}

recorded() { # reads what `start` recorded: nodes, port
    [[ -f $dir/cluster ]] || { echo "no cluster was started in $dir" >&2 && exit 1; }
    read -r nodes port <"$dir/cluster"
    ((node <= nodes)) || { echo "the cluster in $dir has $nodes node(s)" >&2 && exit 2; }
}

kill_node() {
    recorded
    local pidfile="$dir/node$node/pid"
    if [[ -f $pidfile ]]; then
        kill -9 "$(cat "$pidfile")" 2>/dev/null || true
        rm -f "$pidfile"
    fi
    echo "node$node killed"
}

start_node() {
    recorded
    launch "$node"
    await_health || exit 1 # the other nodes go on serving
    echo "node$node is back; the cluster has its $nodes node(s) after ${SECONDS} s"
}

stop() {
    local pidfile pid
    for pidfile in "$dir"/node*/pid; do
        [[ -f $pidfile ]] || continue
        pid=$(cat "$pidfile")
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid"
            # The node closes cleanly on SIGTERM; give it 30 s before forcing.
            for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
            kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$pidfile"
    done
}

case $command in
start) start ;;
stop) stop ;;
kill-node) kill_node ;;
start-node) start_node ;;
*)
    echo "usage: $0 start [--nodes N] [--port HTTP_PORT] [--dir DIR] | stop [--dir DIR]" \
        "| kill-node K [--dir DIR] | start-node K [--dir DIR]" >&2
    exit 2
    ;;
esac
