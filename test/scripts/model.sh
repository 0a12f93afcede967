#!/usr/bin/env bash
# test/scripts/model.sh: model-based robustness tests (issue 5), modest sizes.
#
# Run by scripts/test.sh from the repo root with PGHOST/PGPORT/PGUSER/PGDATABASE
# pointing at a throwaway cluster with the extension installed.  Each part creates
# and drops its own database; the crash test starts a cluster of its own.
#   1. fuzz.py     seeded random operations checked against the independent model
#   2. hostile.py  the catalogue of hostile inputs (SQLSTATE, nothing changed)
#   3. stress.py   concurrent clients at READ COMMITTED and SERIALIZABLE
#   4. crash.sh    SIGKILL of the postmaster under load, restart, ledger check
# Sizes (environment): MODEL_OPS (3000), MODEL_SEED (random), STRESS_SECONDS (5),
# CRASH_ROUNDS (2), CRASH_SECONDS (3).  test/model/README.md has the long runs.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
if ! "$PY" -c 'import psycopg2' 2>/dev/null; then
    echo "installing python3-psycopg2 (Debian package)"
    SUDO=(); [[ "$(id -u)" -ne 0 ]] && SUDO=(sudo)
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-psycopg2 \
        >/dev/null 2>&1 ||
        { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
          "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-psycopg2 \
            >/dev/null; } || { echo "cannot install python3-psycopg2"; exit 1; }
fi
SEED="${MODEL_SEED:-$(( (RANDOM << 15 | RANDOM) % 1000000000 ))}"
failed=()
run() {
    local name="$1"; shift
    echo "---- model: $name ----"
    local t0=$SECONDS
    if "$@"; then
        echo "---- model: $name ok ($((SECONDS - t0))s) ----"
    else
        echo "---- model: $name FAILED ($((SECONDS - t0))s) ----"
        failed+=("$name")
    fi
}
run fuzz timeout 120 "$PY" test/model/fuzz.py --ops "${MODEL_OPS:-3000}" --seed "$SEED" --quiet
run hostile timeout 60 "$PY" test/model/hostile.py
run stress timeout 120 "$PY" test/model/stress.py --seconds "${STRESS_SECONDS:-5}" \
    --levels rc,ser --seed "$SEED"
run crash timeout 180 env CRASH_SEED="$SEED" bash test/model/crash.sh "${CRASH_ROUNDS:-2}" \
    "${CRASH_SECONDS:-3}"
if ((${#failed[@]})); then
    echo "model: FAILED: ${failed[*]} (seed $SEED; rerun with MODEL_SEED=$SEED)"
    exit 1
fi
echo "model: ok (seed $SEED)"
