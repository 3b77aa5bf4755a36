#!/usr/bin/env bash
# Make sure the Debian packages that the test suite needs are installed.
#
#   scripts/ensure-system-packages.sh                 install whatever is missing
#   scripts/ensure-system-packages.sh --check NAME    exit 0 if NAME is usable, else 1
#
# A missing package is installed with apt-get when we are root (or have password-less
# sudo). When it cannot be installed: with CI=true this fails (exit 1) with a clear message;
# otherwise it prints a loud warning and exits 0, and `make test` skips the legs that need it.
#
# To need another package, add its Debian name to PACKAGES and, if `dpkg -s NAME` is not
# the right test, a check_NAME function (dashes in NAME become underscores).
set -euo pipefail

PACKAGES=(
    postgresql
    chromium
    redis-server
)

# PostgreSQL: the server binaries that tests/pg_cluster.py runs (initdb, pg_ctl).
check_postgresql() {
    if [[ -n "${PG_BINDIR:-}" && -x "${PG_BINDIR}/pg_ctl" ]]; then return 0; fi
    if compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then return 0; fi
    local pg_ctl
    pg_ctl="$(command -v pg_ctl 2>/dev/null)" || return 1
    [[ -x "$(dirname "$(readlink -f "$pg_ctl")")/initdb" ]]
}

check_chromium() { command -v chromium >/dev/null 2>&1; }

# Redis: the server that tests/redis_server.py starts for the shared rate-limit counters.
check_redis_server() {
    if [[ -n "${REDIS_SERVER:-}" && -x "${REDIS_SERVER}" ]]; then return 0; fi
    command -v redis-server >/dev/null 2>&1
}

is_usable() {
    local check="check_${1//-/_}"
    if declare -F "$check" >/dev/null; then
        "$check"
    else
        dpkg -s "$1" >/dev/null 2>&1
    fi
}

in_ci() {
    case "${CI:-}" in
        true | TRUE | True | 1 | yes) return 0 ;;
        *) return 1 ;;
    esac
}

banner() {
    local line="!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    printf '\n%s\n' "$line" >&2
    printf '!!! %s\n' "$@" >&2
    printf '%s\n\n' "$line" >&2
}

if [[ "${1:-}" == "--check" ]]; then
    [[ $# -eq 2 ]] || { echo "usage: $0 --check PACKAGE" >&2; exit 2; }
    is_usable "$2"
    exit $?
fi
[[ $# -eq 0 ]] || { echo "usage: $0 [--check PACKAGE]" >&2; exit 2; }

missing=()
for package in "${PACKAGES[@]}"; do
    if ! is_usable "$package"; then
        missing+=("$package")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "system packages: all present (${PACKAGES[*]})"
    exit 0
fi

echo "system packages: missing ${missing[*]}"

as_root=()
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
    else
        as_root=(cannot)
    fi
fi

install_failed=""
if [[ "${as_root[*]}" == "cannot" ]]; then
    install_failed="not root and no password-less sudo, so apt-get cannot install them"
elif ! command -v apt-get >/dev/null 2>&1; then
    install_failed="apt-get is not available on this machine"
else
    echo "system packages: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q; then
        install_failed="apt-get update failed"
    elif ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            --no-install-recommends "${missing[@]}"; then
        install_failed="apt-get install ${missing[*]} failed"
    fi
fi

still_missing=()
for package in "${missing[@]}"; do
    if ! is_usable "$package"; then
        still_missing+=("$package")
    fi
done

if [[ ${#still_missing[@]} -eq 0 ]]; then
    echo "system packages: installed ${missing[*]}"
    exit 0
fi

reason="${install_failed:-installed, but still not usable}"
if in_ci; then
    banner "ERROR: required system packages are missing: ${still_missing[*]}" \
           "Reason: ${reason}." \
           "CI must run every test leg; install them (apt-get install ${still_missing[*]})."
    exit 1
fi
banner "WARNING: system packages missing: ${still_missing[*]}" \
       "Reason: ${reason}." \
       "The test legs that need them (e.g. the PostgreSQL leg) will be SKIPPED." \
       "Fix: sudo apt-get install ${still_missing[*]}"
exit 0
