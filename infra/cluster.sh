#!/usr/bin/env bash
# edms's production tier as a cluster on one machine, for CI's cluster leg and for a developer:
# S3Proxy (infra/s3proxy.sh), a 3-node OpenSearch cluster (infra/opensearch.sh), the Tika server
# (infra/tika-server.sh), and edms itself as the README's production section runs it — two web
# processes (gunicorn), two main Celery workers, the interactive worker, the index worker and the
# sweeper — on the PostgreSQL and Redis named by DATABASE_URL and CELERY_BROKER_URL.
#
#   infra/cluster.sh start [--dir DIR]        start everything (DIR: state, logs, data; default
#                                             var/cluster), print the web URLs
#   infra/cluster.sh stop  [--dir DIR]        stop everything started in DIR
#   infra/cluster.sh kill NAME [--dir DIR]    SIGKILL one edms process with its children, as a
#                                             crash would (web1 web2 worker1 worker2 interactive
#                                             index sweeper)
#   infra/cluster.sh start NAME [--dir DIR]   start that process again, the same way
#
# The two "machines" share nothing on disk: web1, worker1 and the interactive worker run on
# DIR/machine1, web2, worker2, the index worker and the sweeper on DIR/machine2 (EDMS_DATA_DIR:
# upload spool, static files); blobs are on S3, everything else in PostgreSQL. `start` writes
# DIR/cluster.env (the environment every process gets: source it to run `edms` commands against
# the cluster), DIR/api-key (a registry system's API key) and DIR/web-urls; an OpenSearch node
# is killed and started again with `infra/opensearch.sh kill-node|start-node K --dir DIR/opensearch`.
#
# Needs DATABASE_URL (its database is created when missing) and CELERY_BROKER_URL (redis://…);
# Java 17 and Maven for the Java services. Settings: EDMS_CLUSTER_WEB_WORKERS (gunicorn workers
# per web process, 2), EDMS_CLUSTER_SWEEP_EVERY (seconds between sweeps, 60), OPENSEARCH_HEAP.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN="$ROOT/.venv/bin"
PROCESSES=(web1 web2 worker1 worker2 interactive index sweeper)
S3_BUCKET=edms-cluster
S3_IDENTITY=edms-cluster
S3_CREDENTIAL=edms-cluster-secret

command=${1:-}
shift || true
name=""
if [[ ${1:-} != --* && -n ${1:-} ]]; then
    name=$1
    shift
fi
dir="$ROOT/var/cluster"
while (($#)); do
    case $1 in
    --dir) dir=$2 && shift 2 ;;
    *) echo "unknown option $1" >&2 && exit 2 ;;
    esac
done
dir=$(realpath -m "$dir")

# start_detached, running, stop_detached, free_port: one process group per process.
source "$ROOT/infra/java-service.sh"

machine_of() { # process name -> its machine's data directory
    case $1 in
    web1 | worker1 | interactive) echo "$dir/machine1" ;;
    *) echo "$dir/machine2" ;;
    esac
}

# The README's production commands (section "Production setup"), one per process.
command_of() { # name
    case $1 in
    web1 | web2)
        echo "$BIN/gunicorn" edms.wsgi:application --config python:edms.gunicorn_conf \
            --bind "127.0.0.1:$(cat "$dir/$1/port")" --workers "${EDMS_CLUSTER_WEB_WORKERS:-2}" \
            --threads 4 --worker-class gthread --timeout 300
        ;;
    worker1 | worker2)
        echo "$BIN/celery" -A edms worker -Q interactive,celery,webhook,extract,ocr,scan,render,duplicates \
            --loglevel INFO --concurrency 1 --hostname "$1@%h"
        ;;
    interactive)
        echo "$BIN/celery" -A edms worker -Q interactive --loglevel INFO --concurrency 1 \
            --hostname "interactive@%h"
        ;;
    index)
        echo "$BIN/celery" -A edms worker -Q index --loglevel INFO --concurrency 1 \
            --hostname "index@%h"
        ;;
    sweeper) echo "$BIN/edms" sweep --every "${EDMS_CLUSTER_SWEEP_EVERY:-60}" ;;
    *) echo "unknown process $1 (one of: ${PROCESSES[*]})" >&2 && return 2 ;;
    esac
}

# In a subshell: the environment every edms process of the cluster gets, as a service manager
# gives it (an EnvironmentFile), and nothing of the caller's: a test session's EDMS_S3_PREFIX
# would send a restarted process's blobs elsewhere.
cluster_environment() {
    local variable
    for variable in $(compgen -e); do
        case $variable in
        PATH | HOME | USER | LANG | LC_* | TZ | TMPDIR | JAVA_HOME) ;;
        *) unset "$variable" 2>/dev/null || true ;;
        esac
    done
    set -a
    # shellcheck source=/dev/null
    source "$dir/cluster.env"
    set +a
}

start_process() { # name
    local name=$1 words
    words=$(command_of "$name") || exit 2
    if running "$dir/$name"; then
        echo "$name already runs (pid $(cat "$dir/$name/pid"))" >&2
        exit 1
    fi
    # shellcheck disable=SC2086  # the command is words (no path here has spaces)
    (
        cluster_environment
        export EDMS_DATA_DIR; EDMS_DATA_DIR=$(machine_of "$name")
        cd "$ROOT"
        [[ -f $dir/$name/log ]] && cat "$dir/$name/log" >>"$dir/$name/log.old"
        start_detached "$dir/$name" $words
    )
    if [[ $name == web* ]]; then
        wait_until_answers "$dir/$name" "http://127.0.0.1:$(cat "$dir/$name/port")/healthz" 120 \
            "$name" || exit 1
    fi
    echo "$name started (pid $(cat "$dir/$name/pid"))"
}

kill_process() { # name
    command_of "$1" >/dev/null || exit 2
    local pidfile="$dir/$1/pid"
    if [[ -s $pidfile ]]; then
        kill -KILL -- "-$(cat "$pidfile")" 2>/dev/null || true
        rm -f "$pidfile"
    fi
    echo "$1 killed"
}

create_database() {
    "$BIN/python" - "$DATABASE_URL" <<'EOF'
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg

url = urlsplit(sys.argv[1])
name = url.path.lstrip("/")
admin = urlunsplit(url._replace(path="/postgres"))
with psycopg.connect(admin, autocommit=True) as connection:
    if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        connection.execute(f'CREATE DATABASE "{name}"')
EOF
}

create_bucket() { # endpoint
    "$BIN/python" - "$1" "$S3_BUCKET" "$S3_IDENTITY" "$S3_CREDENTIAL" <<'EOF'
import sys

import boto3

endpoint, bucket, key_id, secret = sys.argv[1:]
client = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id=key_id,
    aws_secret_access_key=secret,
)
if bucket not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
    client.create_bucket(Bucket=bucket)
EOF
}

start_all() {
    : "${DATABASE_URL:?set DATABASE_URL to the cluster's PostgreSQL database}"
    : "${CELERY_BROKER_URL:?set CELERY_BROKER_URL to the cluster's Redis (redis://…)}"
    local started=$SECONDS name
    mkdir -p "$dir"/machine1 "$dir"/machine2
    for name in "${PROCESSES[@]}"; do mkdir -p "$dir/$name"; done
    local search_port s3 tika
    # Java services first, side by side: the three OpenSearch nodes take longest.
    search_port=${OPENSEARCH_PORT:-$(free_port)}
    "$ROOT/infra/opensearch.sh" start --nodes 3 --port "$search_port" --dir "$dir/opensearch" \
        >"$dir/opensearch.log" 2>&1 &
    local opensearch_starter=$!
    s3=$(S3PROXY_IDENTITY=$S3_IDENTITY S3PROXY_CREDENTIAL=$S3_CREDENTIAL \
        "$ROOT/infra/s3proxy.sh" start "$dir/s3proxy")
    create_bucket "$s3"
    tika=$("$ROOT/infra/tika-server.sh" start "$dir/tika-server")
    create_database
    if ! wait "$opensearch_starter"; then
        cat "$dir/opensearch.log" >&2
        exit 1
    fi
    [[ -s $dir/secret-key ]] || "$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(50))' \
        >"$dir/secret-key"
    cat >"$dir/cluster.env" <<ENV
DATABASE_URL=$DATABASE_URL
CELERY_BROKER_URL=$CELERY_BROKER_URL
EDMS_SECRET_KEY_FILE=$dir/secret-key
EDMS_S3_BUCKET=$S3_BUCKET
EDMS_S3_ENDPOINT_URL=$s3
EDMS_S3_REGION=us-east-1
EDMS_S3_ACCESS_KEY_ID=$S3_IDENTITY
EDMS_S3_SECRET_ACCESS_KEY=$S3_CREDENTIAL
$(grep '^OPENSEARCH_URL=' "$dir/opensearch.log")
TIKA_SERVER_URL=$tika
PYTHONUNBUFFERED=1
ENV
    (
        cluster_environment
        cd "$ROOT"
        EDMS_DATA_DIR="$dir/machine1" "$BIN/edms" migrate --noinput >"$dir/migrate.log"
        for machine in machine1 machine2; do
            EDMS_DATA_DIR="$dir/$machine" "$BIN/edms" collectstatic --noinput >/dev/null
        done
        if [[ ! -s $dir/api-key ]]; then
            EDMS_DATA_DIR="$dir/machine1" "$BIN/edms" createapikey --name "cluster-$(date +%s)" \
                | tail -n 1 >"$dir/api-key"
        fi
        # As the README says for a new search cluster: an index generation behind the alias.
        EDMS_DATA_DIR="$dir/machine1" "$BIN/edms" search reindex >"$dir/reindex.log" 2>&1
    )
    : >"$dir/web-urls"
    for name in web1 web2; do
        free_port >"$dir/$name/port"
        echo "http://127.0.0.1:$(cat "$dir/$name/port")" >>"$dir/web-urls"
    done
    for name in "${PROCESSES[@]}"; do start_process "$name"; done
    echo "cluster up in $((SECONDS - started)) s; web: $(paste -sd' ' "$dir/web-urls")"
}

stop_all() {
    local name
    for name in "${PROCESSES[@]}"; do stop_detached "$dir/$name"; done
    "$ROOT/infra/opensearch.sh" stop --dir "$dir/opensearch" || true
    "$ROOT/infra/tika-server.sh" stop "$dir/tika-server" || true
    "$ROOT/infra/s3proxy.sh" stop "$dir/s3proxy" || true
}

case $command in
start) if [[ -n $name ]]; then start_process "$name"; else start_all; fi ;;
stop) stop_all ;;
kill) kill_process "${name:?kill needs a process name}" ;;
*)
    echo "usage: $0 start [NAME] [--dir DIR] | stop [--dir DIR] | kill NAME [--dir DIR]" >&2
    exit 2
    ;;
esac
