# shellcheck shell=bash
# scripts/lib.sh: helpers shared by scripts/test.sh and scripts/walkthrough.sh.
#
# Source it; do not run it.  It defines:
#   ensure_deps     install missing Debian 12 packages (apt-get)
#   build_install   make && make install against PostgreSQL 15
#   start_cluster   a throwaway cluster on a Unix socket; exports PGHOST, PGPORT,
#                   PGUSER, PGDATABASE
#   stop_cluster    stop that cluster (quietly; fine if it is not running)
#
# Settings (environment):
#   INVOICING_TMP   directory holding the throwaway cluster
#                   (default /tmp/invoicing-cluster; it is deleted and recreated)
#   INVOICING_PORT  port number of the throwaway cluster (default 54329); the
#                   cluster listens on a Unix socket only, never on TCP
#
# Every function returns non-zero on failure instead of relying on `set -e`,
# so it behaves the same when called as `if ! build_install; then ...`.

set -euo pipefail

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    echo "scripts/lib.sh is meant to be sourced, not run" >&2
    exit 2
fi

INVOICING_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_BINDIR=/usr/lib/postgresql/15/bin
PG_CONFIG="$PG_BINDIR/pg_config"
INVOICING_TMP="${INVOICING_TMP:-/tmp/invoicing-cluster}"
INVOICING_PORT="${INVOICING_PORT:-54329}"
INVOICING_DEPS=(postgresql-15 postgresql-server-dev-15 libjansson-dev pkg-config build-essential python3-psycopg2)

# Marker file that says "this directory is a throwaway cluster made by lib.sh":
# start_cluster refuses to delete an existing INVOICING_TMP without it.
_INVOICING_MARKER=.invoicing-throwaway-cluster

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; return 1; }

# SUDO: empty when root; "sudo" when not root and sudo exists.
if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    SUDO=()
fi

_need_privilege() {
    # Fails with a message when we are neither root nor able to sudo.
    if [[ "$(id -u)" -ne 0 && ${#SUDO[@]} -eq 0 ]]; then
        die "$1 needs root privileges, and sudo is not installed"
        return 1
    fi
}

# The OS user that owns and runs the throwaway cluster: postgres refuses to run as
# root, so root uses the `postgres` account created by the postgresql-15 package;
# anyone else runs the cluster as themselves.
cluster_os_user() {
    if [[ "$(id -u)" -eq 0 ]]; then echo postgres; else id -un; fi
}

# as_user USER CMD...: run CMD as USER (directly, with runuser, or with sudo).
as_user() {
    local user="$1"; shift
    if [[ "$(id -un)" == "$user" ]]; then
        "$@"
    elif [[ "$(id -u)" -eq 0 ]]; then
        runuser -u "$user" -- "$@"
    elif [[ ${#SUDO[@]} -gt 0 ]]; then
        sudo -u "$user" -- "$@"
    else
        die "cannot run a command as $user: not root and no sudo"
    fi
}

# _privileged CMD...: run CMD as root (directly or with sudo).
_privileged() {
    if [[ "$(id -u)" -eq 0 ]]; then
        "$@"
    else
        _need_privilege "$1" || return 1
        "${SUDO[@]}" "$@"
    fi
}

_pkg_installed() {
    local status
    status="$(dpkg -s "$1" 2>/dev/null)" || return 1
    [[ "$status" == *$'\nStatus: install ok installed'* || "$status" == 'Status: install ok installed'* ]]
}

ensure_deps() {
    local missing=() p
    for p in "${INVOICING_DEPS[@]}"; do
        _pkg_installed "$p" || missing+=("$p")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        log "dependencies present: ${INVOICING_DEPS[*]}"
        return 0
    fi
    log "installing missing packages: ${missing[*]}"
    _need_privilege "installing ${missing[*]}" || return 1
    _privileged env DEBIAN_FRONTEND=noninteractive apt-get update -q || return 1
    _privileged env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "${missing[@]}" || return 1
    for p in "${missing[@]}"; do
        _pkg_installed "$p" || { die "package $p is still not installed"; return 1; }
    done
}

build_install() {
    [[ -x "$PG_CONFIG" ]] || { die "$PG_CONFIG not found; run ensure_deps"; return 1; }
    log "building (make PG_CONFIG=$PG_CONFIG)"
    (cd "$INVOICING_REPO_ROOT" && make -j"$(nproc)" PG_CONFIG="$PG_CONFIG") || return 1
    log "installing (make install PG_CONFIG=$PG_CONFIG)"
    (cd "$INVOICING_REPO_ROOT" && _privileged make install PG_CONFIG="$PG_CONFIG") || return 1
}

_cluster_paths() {
    [[ "$INVOICING_TMP" == /* && "$INVOICING_TMP" != / ]] \
        || { die "INVOICING_TMP must be an absolute path other than /: '$INVOICING_TMP'"; return 1; }
    if ! [[ "$INVOICING_PORT" =~ ^[0-9]+$ ]] || (( INVOICING_PORT < 1 || INVOICING_PORT > 65535 )); then
        die "INVOICING_PORT is not a port number: '$INVOICING_PORT'"; return 1
    fi
    INVOICING_TMP="${INVOICING_TMP%/}"
    INVOICING_DATA="$INVOICING_TMP/data"
    INVOICING_SOCKDIR="$INVOICING_TMP/sock"
    INVOICING_LOG="$INVOICING_TMP/postgres.log"
}

# Stops (if running) and deletes a cluster left in INVOICING_TMP by an earlier run.
_remove_old_cluster() {
    _cluster_paths || return 1
    [[ -e "$INVOICING_TMP" ]] || return 0
    if [[ ! -d "$INVOICING_TMP" ]]; then
        die "$INVOICING_TMP exists and is not a directory"; return 1
    fi
    if [[ ! -e "$INVOICING_TMP/$_INVOICING_MARKER" ]] \
       && [[ -n "$(ls -A "$INVOICING_TMP" 2>/dev/null)" ]]; then
        die "$INVOICING_TMP is not empty and was not made by scripts/lib.sh; refusing to delete it (set INVOICING_TMP elsewhere)"
        return 1
    fi
    stop_cluster
    local pidfile="$INVOICING_DATA/postmaster.pid" pid=""
    if [[ -r "$pidfile" ]]; then
        pid="$(head -n1 "$pidfile" 2>/dev/null || true)"
        if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
            die "old cluster in $INVOICING_DATA (pid $pid) would not stop; stop it and retry"
            return 1
        fi
    fi
    log "removing old throwaway cluster in $INVOICING_TMP"
    if ! rm -rf "$INVOICING_TMP" 2>/dev/null; then
        _privileged rm -rf "$INVOICING_TMP" || return 1
    fi
}

start_cluster() {
    _cluster_paths || return 1
    [[ -x "$PG_BINDIR/initdb" ]] || { die "$PG_BINDIR/initdb not found; run ensure_deps"; return 1; }
    local user
    user="$(cluster_os_user)"
    id "$user" >/dev/null 2>&1 || { die "OS user $user does not exist (it comes with postgresql-15)"; return 1; }

    _remove_old_cluster || return 1

    log "creating throwaway cluster in $INVOICING_TMP (OS user $user, port $INVOICING_PORT, socket only)"
    mkdir -p "$INVOICING_TMP" "$INVOICING_SOCKDIR" || return 1
    touch "$INVOICING_TMP/$_INVOICING_MARKER" || return 1
    chmod 0755 "$INVOICING_TMP" "$INVOICING_SOCKDIR" || return 1
    if [[ "$(id -un)" != "$user" ]]; then
        chown -R "$user:" "$INVOICING_TMP" || return 1
    fi
    if ! as_user "$user" test -w "$INVOICING_TMP" -a -x "$INVOICING_TMP"; then
        die "OS user $user cannot reach $INVOICING_TMP (a parent directory is not traversable?); set INVOICING_TMP under /tmp"
        return 1
    fi

    # Run the server tools from a directory the cluster user can enter.
    if ! (cd "$INVOICING_TMP" && as_user "$user" "$PG_BINDIR/initdb" \
            --pgdata="$INVOICING_DATA" --username=postgres --auth=trust \
            --encoding=UTF8 --locale=C --no-sync >"$INVOICING_TMP/initdb.log" 2>&1); then
        cat "$INVOICING_TMP/initdb.log" >&2
        die "initdb failed"; return 1
    fi

    local sockdir_q="${INVOICING_SOCKDIR//\'/\'\'}"
    cat >>"$INVOICING_DATA/postgresql.conf" <<EOF || return 1

# ---- throwaway test cluster (scripts/lib.sh) ----
listen_addresses = ''
port = $INVOICING_PORT
unix_socket_directories = '$sockdir_q'
unix_socket_permissions = 0777
max_connections = 50
max_prepared_transactions = 10
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
EOF

    if ! (cd "$INVOICING_TMP" && as_user "$user" "$PG_BINDIR/pg_ctl" -D "$INVOICING_DATA" \
            -l "$INVOICING_LOG" -w -t 60 start >/dev/null); then
        tail -n 50 "$INVOICING_LOG" >&2 || true
        die "the throwaway cluster did not start (log: $INVOICING_LOG)"; return 1
    fi

    export PGHOST="$INVOICING_SOCKDIR"
    export PGPORT="$INVOICING_PORT"
    export PGUSER=postgres
    export PGDATABASE=postgres
    unset PGPASSWORD PGSERVICE PGHOSTADDR 2>/dev/null || true

    if ! "$PG_BINDIR/psql" -X -q -At -c 'select 1' >/dev/null; then
        die "the throwaway cluster started but does not accept connections on $PGHOST port $PGPORT"
        return 1
    fi
    log "cluster up: PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER PGDATABASE=$PGDATABASE"
}

# Quiet and idempotent: safe in an EXIT trap, never fails.
stop_cluster() {
    _cluster_paths 2>/dev/null || return 0
    [[ -f "$INVOICING_DATA/PG_VERSION" ]] || return 0
    local owner
    owner="$(stat -c %U "$INVOICING_DATA" 2>/dev/null)" || return 0
    (cd / && as_user "$owner" "$PG_BINDIR/pg_ctl" -D "$INVOICING_DATA" -m fast -w -t 60 stop) \
        >/dev/null 2>&1 || true
    return 0
}
