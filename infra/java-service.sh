# Shared by infra/s3proxy.sh and infra/tika-server.sh (sourced, not run): fetch a server jar from
# Maven Central with Maven, start it detached on loopback, wait until it answers, stop it.
# State of one server lives in its directory: `pid`, `port`, `log`.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
# Maven's local repository: jars are used where Maven put them (EDMS_MAVEN_REPO for another one,
# e.g. an empty folder to measure a cold fetch).
MAVEN_REPO=${EDMS_MAVEN_REPO:-$HOME/.m2/repository}
# 2.8, whose `get` with -Dtransitive=false does not read the artifact's POM: tika-server-standard's
# parent POM is not served, and 3.x refuses the artifact for it.
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:2.8

fetch_jar() { # group:artifact:version[:classifier] -> prints the jar's path
    local group artifact version classifier
    IFS=: read -r group artifact version classifier <<<"$1"
    local jar="$MAVEN_REPO/${group//.//}/$artifact/$version/$artifact-$version${classifier:+-$classifier}.jar"
    if [[ ! -s "$jar" ]]; then
        # Not transitive: both servers ship as one jar with their dependencies inside.
        mvn -q -B -Dstyle.color=never -Dmaven.repo.local="$MAVEN_REPO" "$DEPENDENCY_PLUGIN:get" \
            -Dartifact="$group:$artifact:$version:jar${classifier:+:$classifier}" \
            -Dtransitive=false >&2 || return 1
        [[ -s "$jar" ]] || { echo "Maven did not bring $jar" >&2; return 1; }
    fi
    echo "$jar"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts "$@" in its own session (so that stop ends every process it forks), output to DIR/log.
start_detached() { # dir command...
    local dir=$1
    shift
    setsid "$@" >"$dir/log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
}

running() { # dir
    [[ -s "$1/pid" ]] && kill -0 "$(cat "$1/pid")" 2>/dev/null
}

# Polls a URL until it answers with any HTTP status (a 403 is an answer), the process dies, or
# `seconds` pass; on failure prints the log's tail.
wait_until_answers() { # dir url seconds what
    local dir=$1 url=$2 seconds=$3 what=$4
    local deadline=$((SECONDS + seconds))
    until python3 - "$url" <<'PY' 2>/dev/null; do
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=5)
except urllib.error.HTTPError:
    pass
PY
        if ! running "$dir" || ((SECONDS > deadline)); then
            echo "$what did not answer at $url within $seconds s; its log:" >&2
            tail -n 40 "$dir/log" >&2
            stop_detached "$dir"
            return 1
        fi
        sleep 0.5
    done
}

stop_detached() { # dir
    local dir=$1 pid
    [[ -s "$dir/pid" ]] || return 0
    pid=$(cat "$dir/pid")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null || true
        for _ in $(seq 40); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$dir/pid"
}
