#!/usr/bin/env bash
# Installs Debian's Prometheus and Alertmanager (`prometheus`, `prometheus-alertmanager`)
# when they are missing, for the tests that run them. Idempotent; callers running at once
# take turns on a lock, so two tests never race apt-get. Needs root (or sudo) to install.
set -euo pipefail

missing() {
    local need=()
    command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
    command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
    echo "${need[@]:-}"
}

[ -z "$(missing)" ] && exit 0

# The lock is this script itself: every caller has it, and nothing is left behind.
exec 9<"$0"
flock 9
need=$(missing)
[ -z "$need" ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! $sudo apt-get install -y --no-install-recommends $need >/dev/null 2>&1; then
    $sudo apt-get update >/dev/null
    # shellcheck disable=SC2086
    $sudo apt-get install -y --no-install-recommends $need >/dev/null
fi
need=$(missing)
if [ -n "$need" ]; then
    echo "still missing after apt-get install: $need" >&2
    exit 1
fi
