#!/usr/bin/env bash
# test/model/crash.sh: crash recovery under load, on a throwaway cluster of its own.
#
#   test/model/crash.sh [ROUNDS] [SECONDS]      (defaults: 3 rounds, 4 seconds of load)
#
# Starts a cluster with scripts/lib.sh (CRASH_TMP, default /tmp/inv-model-crash; port
# CRASH_PORT, default 54344), turns synchronous_commit on (lib.sh turns it off for speed;
# with it off a commit is acknowledged before its WAL reaches the kernel, and a killed
# server may lose it legitimately), then ROUNDS times: runs the concurrent load, kills the
# postmaster with SIGKILL mid-load, restarts the cluster (crash recovery), and checks
# with crash.py that every transaction a client saw commit is there, nothing else is,
# and the invariants hold.  Exit status 0 = every round passed.
set -uo pipefail
ROUNDS="${1:-3}"
SECONDS_LOAD="${2:-4}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
export INVOICING_TMP="${CRASH_TMP:-/tmp/inv-model-crash}"
export INVOICING_PORT="${CRASH_PORT:-54344}"
# shellcheck source=../../scripts/lib.sh
source "$REPO/scripts/lib.sh"
set +e
trap stop_cluster EXIT
start_cluster || exit 1
DATA="$INVOICING_TMP/data"
USER_="$(cluster_os_user)"
psql -X -q -c "ALTER SYSTEM SET synchronous_commit = on" -c "ALTER SYSTEM SET log_min_messages = log" -c "SELECT pg_reload_conf()" >/dev/null || exit 1
LEDGER="$INVOICING_TMP/ledger.json"
rm -f "$LEDGER"
SEED="${CRASH_SEED:-$RANDOM$RANDOM}"
echo "crash: seed $SEED, $ROUNDS rounds of ${SECONDS_LOAD}s (replay the mix: CRASH_SEED=$SEED $0 $ROUNDS $SECONDS_LOAD)"
rc=0
for ((r = 1; r <= ROUNDS; r++)); do
    "$PY" "$HERE/crash.py" load --data "$DATA" --sock "$INVOICING_TMP/sock" --ledger "$LEDGER" --round "$r" \
        --levels "${CRASH_LEVELS:-rc,ser,rr}" --seconds "$SECONDS_LOAD" --seed "$((SEED + r))" || rc=1
    # (crash.py waited for the killed processes to die) restart: crash recovery
    if ! (cd "$INVOICING_TMP" && as_user "$USER_" "$PG_BINDIR/pg_ctl" -D "$DATA" \
            -l "$INVOICING_TMP/postgres.log" -w -t 60 start >/dev/null); then
        tail -n 30 "$INVOICING_TMP/postgres.log"
        echo "crash: the cluster did not restart after round $r"
        exit 1
    fi
    grep -E "database system was interrupted|redo done|database system is ready" \
        "$INVOICING_TMP/postgres.log" | tail -n 2 | sed 's/^/  log: /'
    "$PY" "$HERE/crash.py" check --ledger "$LEDGER" || rc=1
done
echo "crash: $([[ $rc -eq 0 ]] && echo ok || echo FAILED)"
exit $rc
