#!/usr/bin/env bash
# The services the production tier's tests talk to, from Debian's packages, installed when
# missing (idempotent): PostgreSQL (the database) and Redis (the Celery broker).
#
# It installs; it does not start them (.ci/run does, on loopback, and so would an office's
# init system). As anyone but root it only prints what to install.
set -euo pipefail

PACKAGES=(postgresql redis-server)

missing=()
for package in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    [[ "$status" == installed ]] || missing+=("$package")
done

if ((${#missing[@]} == 0)); then
    echo "services present: ${PACKAGES[*]}"
    exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
    echo "install-services: not root; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

echo "install-services: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A machine without an init system answers the packages' "start the service now" with an error
# that is not one here: the services are started by whoever needs them.
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
