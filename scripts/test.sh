#!/usr/bin/env bash
# scripts/test.sh: build, install and test the extension against a throwaway
# PostgreSQL 15 cluster.
#
#   scripts/test.sh
#
# Runs, without stopping at the first failure:
#   1. the pg_regress tests           (test/sql/*.sql,   output in test/out)
#   2. the isolation tests            (test/specs/*.spec, output in test/out_iso)
#   3. every extra script test/scripts/*.sh (run with bash from the repo root with
#      PGHOST/PGPORT/PGUSER/PGDATABASE set; exit status 0 = pass)
# and ends with the line "N passed, N failed".  Exits 0 only when at least one test
# ran and none failed.  A failed setup step (packages, build, cluster) counts as one
# failure.  Settings: INVOICING_TMP, INVOICING_PORT (see scripts/lib.sh).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$INVOICING_REPO_ROOT"

PASSED=0
FAILED=0
FAILED_NAMES=()
SHOW_REGRESS_DIFFS=0
SHOW_ISO_DIFFS=0

summary_and_exit() {
    stop_cluster
    if ((FAILED > 0)); then
        local f
        for f in test/out/regression.diffs test/out_iso/regression.diffs; do
            if [[ "$f" == test/out/* && $SHOW_REGRESS_DIFFS -eq 0 ]]; then continue; fi
            if [[ "$f" == test/out_iso/* && $SHOW_ISO_DIFFS -eq 0 ]]; then continue; fi
            if [[ -s "$f" ]]; then
                echo
                echo "==================== $f (first 300 lines) ===================="
                head -n 300 "$f"
                echo "==================== end of $f ===================="
            fi
        done
        echo
        echo "failed: ${FAILED_NAMES[*]}"
    elif ((PASSED == 0)); then
        echo
        echo "no tests ran"
    fi
    echo "$PASSED passed, $FAILED failed"
    if ((FAILED == 0 && PASSED > 0)); then exit 0; else exit 1; fi
}

setup_failed() {
    echo "setup step failed: $1" >&2
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("setup:$1")
    summary_and_exit
}

# classify_results FILE: prints one line per test result found in pg_regress /
# pg_isolation_regress output FILE: "PASS <name>" or "FAIL <name>".  Understands
#   PostgreSQL <= 15:  "test foo   ... ok   12 ms", "     foo   ... FAILED   12 ms",
#                      "test foo   ... failed (ignored)"   (ignored: counted as pass)
#   PostgreSQL >= 16:  "ok 1   - foo   12 ms", "not ok 2   + foo   12 ms" (+: parallel),
#                      "not ok 3   - foo  12 ms # (ignored)" / "# SKIP" / "# TODO"
classify_results() {
    local file="$1" line name result
    local re_old='^[[:space:]]*(test[[:space:]]+)?([^[:space:]]+)[[:space:]]+\.\.\.[[:space:]]+(ok|FAILED|failed)([[:space:]]|$)'
    local re_new='^[[:space:]]*(not[[:space:]]+)?ok[[:space:]]+[0-9]+([[:space:]]+[-+])?[[:space:]]*([^[:space:]#]*)'
    local re_exempt='#[[:space:]]*(\(ignored\)|SKIP|skip|TODO|todo)'
    while IFS= read -r line || [[ -n "$line" ]]; do
        line="${line%$'\r'}"
        # (each =~ resets BASH_REMATCH, so copy the groups before the next test)
        if [[ "$line" =~ $re_old ]]; then
            name="${BASH_REMATCH[2]}"; result="${BASH_REMATCH[3]}"
            if [[ "$result" == ok || "$line" == *"(ignored)"* ]]; then
                echo "PASS $name"
            else
                echo "FAIL $name"
            fi
        elif [[ "$line" =~ $re_new ]]; then
            name="${BASH_REMATCH[3]}"; result="${BASH_REMATCH[1]:+not ok}"
            if [[ -z "$result" ]] || [[ "$line" =~ $re_exempt ]]; then
                echo "PASS ${name:-?}"
            else
                echo "FAIL ${name:-?}"
            fi
        fi
    done <"$file"
}

# count_results FILE: adds FILE's results to PASSED / FAILED / FAILED_NAMES and
# sets LAST_P / LAST_F to this file's counts.
count_results() {
    local kind name
    LAST_P=0; LAST_F=0
    while read -r kind name; do
        if [[ "$kind" == PASS ]]; then
            LAST_P=$((LAST_P + 1))
        else
            LAST_F=$((LAST_F + 1)); FAILED_NAMES+=("$name")
        fi
    done < <(classify_results "$1")
    PASSED=$((PASSED + LAST_P))
    FAILED=$((FAILED + LAST_F))
}

# run_installcheck LABEL MAKE-ARGS...: one `make installcheck`, output shown and
# counted.  If make fails but no failing test was seen (e.g. the server refused
# the connection), that counts as one failure.
run_installcheck() {
    local label="$1"; shift
    local out rc
    out="$(mktemp)"
    echo
    echo "---- $label: make installcheck $* ----"
    set +e
    make installcheck PG_CONFIG="$PG_CONFIG" "$@" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    set -e
    count_results "$out"
    rm -f "$out"
    echo "$label: $LAST_P passed, $LAST_F failed (make exit status $rc)"
    if ((rc != 0 && LAST_F == 0)); then
        echo "$label: make installcheck failed without a failing test; counted as one failure"
        FAILED=$((FAILED + 1)); FAILED_NAMES+=("$label:make")
    fi
    if ((rc != 0 || LAST_F > 0)); then return 1; fi
    return 0
}

# Lets a unit test source this file for the functions above without running.
if [[ "${INVOICING_TEST_SH_FUNCTIONS_ONLY:-0}" == 1 ]]; then
    # shellcheck disable=SC2317
    return 0 2>/dev/null || exit 0
fi

ensure_deps || setup_failed "ensure_deps"
build_install || setup_failed "build_install"
trap stop_cluster EXIT
start_cluster || setup_failed "start_cluster"

shopt -s nullglob
regress_files=(test/sql/*.sql)
iso_files=(test/specs/*.spec)
extra_scripts=(test/scripts/*.sh)
shopt -u nullglob

# pgxs runs pg_regress and then pg_isolation_regress in one recipe, so a regress
# failure would skip the isolation tests.  Run them as two make calls instead:
# `ISOLATION=` (empty: pgxs's `ifdef ISOLATION` is false) runs only pg_regress,
# `REGRESS=` runs only the isolation tests.
if ((${#regress_files[@]} > 0)); then
    run_installcheck regress ISOLATION= || SHOW_REGRESS_DIFFS=1
else
    echo "no regression tests in test/sql"
fi
if ((${#iso_files[@]} > 0)); then
    run_installcheck isolation REGRESS= || SHOW_ISO_DIFFS=1
else
    echo "no isolation tests in test/specs"
fi

if ((${#extra_scripts[@]} > 0)); then
    echo
    echo "---- extra test scripts (test/scripts/*.sh) ----"
fi
for script in "${extra_scripts[@]}"; do
    name="$(basename "$script")"
    echo "---- $name ----"
    set +e
    PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" PGDATABASE="$PGDATABASE" \
        bash "$script"
    rc=$?
    set -e
    if ((rc == 0)); then
        printf 'script %-40s ... ok\n' "$name"
        PASSED=$((PASSED + 1))
    else
        printf 'script %-40s ... FAILED (exit %d)\n' "$name" "$rc"
        FAILED=$((FAILED + 1)); FAILED_NAMES+=("$name")
    fi
done

summary_and_exit
