# Sourced by the install scripts: which Debian packages are missing, and installing them.

# Prints the packages among "$@" that are not installed, one per line.
missing_packages() {
    local package status
    for package in "$@"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
        [[ "$status" == installed ]] || echo "$package"
    done
}

# Installs "$@" without recommends. A stale package index is the usual cause of a failure:
# it is refreshed once and the install retried. A machine without an init system answers the
# packages' "start the service now" with an error that is not one here: services are started
# by whoever needs them.
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends "$@"; then
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "$@"
    fi
}
