#!/usr/bin/env bash
# Keycloak, an OpenID provider, for edms's single sign-on tests (and to try SSO on a laptop):
# Keycloak's distribution (org.keycloak:keycloak-quarkus-dist, from Maven Central, fetched by
# Maven) in dev mode on loopback, with a realm imported from a JSON file. Dev mode keeps its
# state in DIR (H2) and serves plain HTTP: never a production set-up.
#
#   infra/keycloak.sh start DIR [REALM.json]   unpack into DIR, start, wait until the realm's
#                                              discovery document answers, print the base URL
#                                              (the realm's issuer is BASE/realms/<realm>)
#   infra/keycloak.sh stop DIR                 stop the server started in DIR
#
# Settings (environment): KEYCLOAK_VERSION (26.5.6), KEYCLOAK_PORT (default: a free port),
# KEYCLOAK_JAVA_HOME (default: the first JDK >= 21 in /usr/lib/jvm; Keycloak 26 needs 21 or later),
# KEYCLOAK_ADMIN_PASSWORD (admin; the master realm's bootstrap user `admin`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/java-service.sh"

VERSION=${KEYCLOAK_VERSION:-26.5.6}
command=${1:-}
dir=$(realpath -m "${2:?usage: $0 start|stop DIR [REALM.json]}")

fetch_dist() { # -> prints the zip's path
    local zip="$MAVEN_REPO/org/keycloak/keycloak-quarkus-dist/$VERSION/keycloak-quarkus-dist-$VERSION.zip"
    if [[ ! -s "$zip" ]]; then
        mvn -q -B -Dstyle.color=never -Dmaven.repo.local="$MAVEN_REPO" "$DEPENDENCY_PLUGIN:get" \
            -Dartifact="org.keycloak:keycloak-quarkus-dist:$VERSION:zip" -Dtransitive=false >&2 ||
            return 1
        [[ -s "$zip" ]] || { echo "Maven did not bring $zip" >&2; return 1; }
    fi
    echo "$zip"
}

java_home() { # a JDK whose major version is 21 or more
    if [[ -n ${KEYCLOAK_JAVA_HOME:-} ]]; then
        echo "$KEYCLOAK_JAVA_HOME"
        return
    fi
    local home major
    for home in /usr/lib/jvm/*/; do
        [[ -x $home/bin/java && -f $home/release ]] || continue
        major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
        if [[ -n $major ]] && ((major >= 21)); then
            echo "${home%/}"
            return
        fi
    done
    echo "no JDK 21 or later in /usr/lib/jvm (set KEYCLOAK_JAVA_HOME)" >&2
    return 1
}

case "$command" in
start)
    realm=${3:-}
    if running "$dir"; then
        echo "http://127.0.0.1:$(cat "$dir/port")"
        exit 0
    fi
    zip=$(fetch_dist) || exit 1
    jdk=$(java_home) || exit 1
    mkdir -p "$dir"
    home="$dir/keycloak-$VERSION"
    [[ -d $home ]] || unzip -q "$zip" -d "$dir"
    mkdir -p "$home/data/import"
    realm_name=master
    if [[ -n $realm ]]; then
        realm_name=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["realm"])' "$realm")
        # Keycloak imports only a file named after the realm it holds.
        cp "$realm" "$home/data/import/$realm_name-realm.json"
    fi
    port=${KEYCLOAK_PORT:-$(free_port)}
    echo "$port" >"$dir/port"
    export JAVA_HOME=$jdk KC_BOOTSTRAP_ADMIN_USERNAME=admin
    export KC_BOOTSTRAP_ADMIN_PASSWORD=${KEYCLOAK_ADMIN_PASSWORD:-admin}
    # On Java 24 or later JBoss Threads needs this, or a failed start hides its real error.
    export JAVA_OPTS_APPEND="--add-opens=java.base/java.lang=ALL-UNNAMED"
    start_detached "$dir" "$home/bin/kc.sh" start-dev --http-host=127.0.0.1 --http-port="$port" \
        --import-realm
    wait_until_answers "$dir" \
        "http://127.0.0.1:$port/realms/$realm_name/.well-known/openid-configuration" \
        240 "Keycloak $VERSION"
    echo "http://127.0.0.1:$port"
    ;;
stop)
    stop_detached "$dir"
    ;;
*)
    echo "usage: $0 start|stop DIR [REALM.json]" >&2
    exit 2
    ;;
esac
