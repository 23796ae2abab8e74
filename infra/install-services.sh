#!/usr/bin/env bash
# The services the production tier's tests talk to, from Debian's packages, installed when
# missing (idempotent): PostgreSQL (the database), Redis (the Celery broker) and nginx (the
# reverse proxy of infra/nginx/edms.conf, checked by a test).
#
# It installs; it does not start them (.ci/run does, on loopback, and so would an office's
# init system). As anyone but root it only prints what to install.
set -euo pipefail

PACKAGES=(postgresql redis-server nginx-light)

source "$(dirname "$0")/lib/debian-packages.sh"
mapfile -t missing < <(missing_packages "${PACKAGES[@]}")

if ((${#missing[@]} == 0)); then
    echo "services present: ${PACKAGES[*]}"
    exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
    echo "install-services: not root; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

echo "install-services: installing ${missing[*]}"
apt_install "${missing[@]}"
