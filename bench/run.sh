#!/usr/bin/env bash
# bench/run.sh: the benchmark behind `make bench`.
#
#   bench/run.sh                 throughput table, then the memory check
#   bench/run.sh --no-memory     throughput table only
#   bench/run.sh --memory-only   the memory check only
#   bench/run.sh --profile       perf profile of W1 (functions and DML) and the
#                                wait events of W1 and W3, only
#
# Starts its own throwaway cluster (scripts/lib.sh; by default in
# /tmp/invoicing-bench on port 54342, so it never touches the test cluster),
# builds the data once through the extension in database bench_ext, copies it
# to bench_bare (CREATE DATABASE ... TEMPLATE) and there disables the
# extension's triggers (ALTER TABLE ... DISABLE TRIGGER USER): the same
# tables, rows and indexes, with no checks and no events.  Then, for each
# workload, pgbench runs the extension's calls against bench_ext and the same
# row writes, done bare, against bench_bare, back to back, with
# synchronous_commit = off (where the targets apply) and with the default
# (synchronous_commit = on, and fsync = on, which lib.sh turns off).
#
# Workloads (tps counts runs of the script; "ops" is statements per run):
#   W1     payment pipeline through the functions: create_payment_intent,
#          attach_payment, update_payment_intent(succeeded), on 2,000 large
#          open invoices (each client its own 1,000), 2 clients
#   W1dml  the same pipeline as plain DML on the tables (INSERT payment_intents,
#          INSERT invoice_payments, UPDATE payment_intents), 2 clients: the
#          rules without the functions' wrappers and JSON results
#   W1doc  control, bare on both sides: pay_bare_doc.sql (the bare pipeline
#          whose attach also returns a document like attach_payment's: the
#          invoice and its 10 newest payments, built with to_jsonb) against
#          pay_bare.sql, so its ratio is what returning that document costs
#          with no rules, no events and no jansson
#   W2     W1 on invoices that already hold 10,000 payments (one per client)
#   W2f    control for W2: the same access pattern (one invoice per client)
#          on invoices that start without payments (new ones for each mode),
#          so W2 against W2f isolates the cost of the history
#   W3     W1 with 8 clients on ONE invoice; afterwards it is checked exactly
#   W3rr   optional (add it to BENCH_WORKLOADS): W3 at REPEATABLE READ with
#          each pipeline in one transaction, so pgbench retries the 40001
#          failures whole; checked like W3
#   W4     create_credit_note on 1,000 partially paid invoices, 2 clients
#   W5     create_invoice, add_invoice_line, finalize_invoice for customers
#          with credit (the credit pays the invoice), 2 clients
#
# Settings (environment):
#   INVOICING_TMP, INVOICING_PORT   the throwaway cluster (scripts/lib.sh)
#   BENCH_SECONDS     seconds per pgbench run (default 4)
#   BENCH_ROUNDS      runs of each workload and side, interleaved (default 3;
#                     tps is their mean, percentiles are over all of them)
#   BENCH_MODES       synchronous_commit settings to run (default "off on")
#   BENCH_WORKLOADS   which workloads (default "W1 W1dml W1doc W2 W2f W3 W4 W5")
#   BENCH_W2_HISTORY  payments already on each W2 invoice (default 10000)
#   BENCH_ON_FSYNC    fsync during the synchronous_commit=on runs (default on)
#   BENCH_MEMORY      1/0: run the memory check after the table (default 1)
#   MEM_OPS           operations of the memory check (default 1000000)
#   PROFILE_SECONDS   seconds of perf sampling per profile (default 15)
#   BENCH_OUT         where pgbench outputs, logs and profiles go (default
#                     bench/results/<date>, ignored by git)
#   BENCH_KEEP_LOGS   1 keeps the per-transaction pgbench logs (default 0)
# Exit status: 0 when every run completed (the targets are reported, not
# enforced); 1 when a run failed or W3 did not end exactly right.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export INVOICING_TMP="${INVOICING_TMP:-/tmp/invoicing-bench}"
export INVOICING_PORT="${INVOICING_PORT:-54342}"
# shellcheck source=../scripts/lib.sh
source "$BENCH_DIR/../scripts/lib.sh"

BENCH_SECONDS="${BENCH_SECONDS:-4}"
BENCH_ROUNDS="${BENCH_ROUNDS:-3}"
BENCH_MODES="${BENCH_MODES:-off on}"
BENCH_WORKLOADS="${BENCH_WORKLOADS:-W1 W1dml W1doc W2 W2f W3 W4 W5}"
BENCH_W2_HISTORY="${BENCH_W2_HISTORY:-10000}"
BENCH_ON_FSYNC="${BENCH_ON_FSYNC:-on}"
BENCH_MEMORY="${BENCH_MEMORY:-1}"
BENCH_KEEP_LOGS="${BENCH_KEEP_LOGS:-0}"
PROFILE_SECONDS="${PROFILE_SECONDS:-15}"
BENCH_OUT="${BENCH_OUT:-$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S)}"

DO_TABLE=1
DO_MEMORY="$BENCH_MEMORY"
DO_PROFILE=0
for arg in "$@"; do
    case "$arg" in
        --no-memory) DO_MEMORY=0 ;;
        --memory) DO_MEMORY=1 ;;
        --memory-only) DO_TABLE=0; DO_MEMORY=1 ;;
        --profile) DO_TABLE=0; DO_MEMORY=0; DO_PROFILE=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option: $arg (see --help)" >&2; exit 2 ;;
    esac
done

PSQL=("$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1)
PGBENCH="$PG_BINDIR/pgbench"
[[ -x "$PGBENCH" ]] || PGBENCH="$(command -v pgbench)"
DB_EXT=bench_ext
DB_BARE=bench_bare
STATUS=0

mkdir -p "$BENCH_OUT/log"
BENCH_OUT="$(cd "$BENCH_OUT" && pwd)"
# The cluster runs as another OS user when we are root; pgbench, psql and
# perf run as us and write here.

# ---------------------------------------------------------------------------
# Cluster and data
# ---------------------------------------------------------------------------

ensure_deps
if [[ ! -f "$("$PG_CONFIG" --sharedir)/extension/invoicing.control" ]]; then
    log "invoicing is not installed: building and installing it"
    build_install
fi
trap stop_cluster EXIT
start_cluster

sql() { "${PSQL[@]}" -At "$@"; }

# What is measured: the installed library (which another build may replace
# while the benchmark runs) and the work tree it most likely came from.
LIB_SO="$("$PG_CONFIG" --pkglibdir)/invoicing.so"
lib_stamp() { stat -c '%y' "$LIB_SO" 2>/dev/null | cut -d. -f1; }
LIB_AT_START="$(lib_stamp)"
TREE="$(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo '?')"
if [[ -n "$(git -C "$BENCH_DIR/.." status --porcelain -- src sql 2>/dev/null)" ]]; then
    TREE+="+changes"
fi

setup_data() {
    log "setting up $DB_EXT (W2 history: $BENCH_W2_HISTORY payments on each of 2 invoices)"
    sql -c "CREATE DATABASE $DB_EXT"
    sql -d "$DB_EXT" -c "CREATE EXTENSION invoicing"
    sql -d "$DB_EXT" -o /dev/null -v w1_inv=2000 -v w4_inv=1000 -v w5_cus=100 \
        -f "$BENCH_DIR/setup.sql"
    sql -d "$DB_EXT" -o /dev/null -v w2_hist="$BENCH_W2_HISTORY" \
        -f "$BENCH_DIR/setup_history.sql"
    sql -d "$DB_EXT" -c "VACUUM ANALYZE"
    log "copying it to $DB_BARE and disabling the extension's triggers there"
    sql -c "CREATE DATABASE $DB_BARE TEMPLATE $DB_EXT"
    sql -d "$DB_BARE" <<'SQL'
DO $$
DECLARE
	r	record;
BEGIN
	FOR r IN SELECT c.oid::regclass AS t
			   FROM pg_class c
			   JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
							   AND d.deptype = 'e'
			   JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'invoicing'
			  WHERE c.relkind = 'r'
	LOOP
		EXECUTE format('ALTER TABLE %s DISABLE TRIGGER USER', r.t);
	END LOOP;
END
$$;
SQL
    local on_bare off_ext
    on_bare="$(sql -d "$DB_BARE" -c "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'")"
    off_ext="$(sql -d "$DB_EXT" -c "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'D'")"
    if [[ "$on_bare" != 0 || "$off_ext" != 0 ]]; then
        die "trigger setup is wrong: $on_bare enabled in $DB_BARE, $off_ext disabled in $DB_EXT"
        return 1
    fi
}

# ---------------------------------------------------------------------------
# Workloads: name -> "clients script_ext script_bare pgbench variables"
# ---------------------------------------------------------------------------

declare -A WL_CLIENTS WL_EXT WL_BARE WL_VARS WL_OPS WL_TITLE WL_PGOPT WL_EXTDB
def_workload() {
    WL_TITLE[$1]="$2"; WL_CLIENTS[$1]="$3"; WL_OPS[$1]="$4"
    WL_EXT[$1]="$5"; WL_BARE[$1]="$6"; WL_VARS[$1]="$7"; WL_PGOPT[$1]="${8:-}"
    WL_EXTDB[$1]="${9:-ext}"    # "bare": a control whose "ext" side runs bare too
}
def_workload W1    "payment pipeline"         2 3 pay_ext.sql      pay_bare.sql      "w=w1 ninv=2000 stride=2 ncus=100"
def_workload W1dml "W1 as plain DML"          2 3 pay_dml.sql      pay_bare.sql      "w=w1 ninv=2000 stride=2 ncus=100"
def_workload W1doc "bare + attach's document" 2 3 pay_bare_doc.sql pay_bare.sql      "w=w1 ninv=2000 stride=2 ncus=100" "" bare
def_workload W2    "W1, 10k payments/inv"     2 3 pay_ext.sql      pay_bare.sql      "w=w2 ninv=2 stride=2 ncus=1"
def_workload W2f   "W2 control: fresh inv"    2 3 pay_ext.sql      pay_bare.sql      "w=w2f@MODE@ ninv=2 stride=2 ncus=1"
def_workload W3    "W1, 8 clients, 1 invoice" 8 3 pay_ext.sql      pay_bare.sql      "w=w3 ninv=1 stride=1 ncus=1"
def_workload W3rr  "W3, REPEATABLE READ, 1 tx" 8 3 pay_ext_tx.sql  pay_bare_tx.sql   "w=w3rr ninv=1 stride=1 ncus=1" \
    "-c default_transaction_isolation=repeatable\\ read"
def_workload W4    "credit notes"             2 1 credit_ext.sql   credit_bare.sql   "w=w4 ninv=1000 stride=2 ncus=100"
def_workload W5    "finalize with credit"     2 3 finalize_ext.sql finalize_bare.sql "w=w5 ninv=100 stride=2 ncus=100"

for w in $BENCH_WORKLOADS; do
    [[ -n "${WL_EXT[$w]:-}" ]] || { echo "unknown workload: $w" >&2; exit 2; }
done

# Results, keyed "<workload>.<mode>.<ext|bare>".
declare -A R_TPS R_LAT R_ERR R_NOTE R_MEANS

# percentiles LOGPREFIX: "p50 p95 p99" in ms of the logged transaction times.
percentiles() {
    cat "$1".r*.* 2>/dev/null | awk '$3 ~ /^[0-9]+$/ {print $3}' | sort -n | awk '
        { v[NR] = $1 }
        function pct(p,   i) { i = int(p * NR + 0.999999); if (i < 1) i = 1; return v[i] / 1000.0 }
        END { if (NR == 0) print "- - -"; else printf "%.2f %.2f %.2f\n", pct(0.50), pct(0.95), pct(0.99) }'
}

# run_one WORKLOAD MODE SIDE ROUND: one pgbench run, output in
# <key>.r<ROUND>.{out,err} and its transaction log under log/.
run_one() {
    local w="$1" mode="$2" side="$3" round="$4"
    local key="$w.$mode.$side" db script clients threads rc=0
    local -a vars=()
    if [[ "$side" == ext ]]; then db="$DB_EXT"; script="${WL_EXT[$w]}"
        [[ "${WL_EXTDB[$w]}" == bare ]] && db="$DB_BARE"
    else db="$DB_BARE"; script="${WL_BARE[$w]}"; fi
    clients="${WL_CLIENTS[$w]}"
    threads=$((clients < 2 ? clients : 2))
    for v in ${WL_VARS[$w]//@MODE@/$mode}; do vars+=(-D "$v"); done
    sql -d "$db" -c "CHECKPOINT"
    log "run $key (round $round): $script, $clients clients, ${BENCH_SECONDS}s"
    PGOPTIONS="-c synchronous_commit=$mode ${WL_PGOPT[$w]}" "$PGBENCH" -n -M prepared \
        -c "$clients" -j "$threads" -T "$BENCH_SECONDS" -r \
        --max-tries=20 --failures-detailed \
        --log --log-prefix="$BENCH_OUT/log/$key.r$round" \
        "${vars[@]}" -f "$BENCH_DIR/$script" "$db" \
        >"$BENCH_OUT/$key.r$round.out" 2>"$BENCH_OUT/$key.r$round.err" || rc=$?
    echo "$rc" >"$BENCH_OUT/$key.r$round.rc"
}

# collect KEY: fold the rounds of one cell into R_*: tps is the mean over the
# rounds, percentiles are over every logged transaction of every round.
collect() {
    local key="$1" f out err rc
    local tps_list="" failed=0 retried=0 bad=0 other="" n
    for out in "$BENCH_OUT/$key".r*.out; do
        [[ -e "$out" ]] || continue
        err="${out%.out}.err"; rc="$(cat "${out%.out}.rc")"
        tps_list+=" $(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out" | head -n1)"
        n="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")"; failed=$((failed + ${n:-0}))
        n="$(sed -n 's/^number of transactions retried: \([0-9]*\).*/\1/p' "$out")"; retried=$((retried + ${n:-0}))
        # Errors other than the documented retryable ones (40001, 40P01):
        # pgbench retries those (--max-tries) and aborts the client on
        # anything else.
        f="$(grep 'ERROR' "$err" | grep -v -e 'could not serialize' -e 'deadlock detected' | sort -u || true)"
        [[ -n "$f" ]] && other+="$f"$'\n'
        if [[ "$rc" != 0 || -n "$f" ]] || grep -q 'aborted in command' "$err" \
           || ! grep -q '^tps = ' "$out"; then
            bad=1
            log "run $key failed (exit $rc); see $err"
        fi
    done
    R_TPS[$key]="$(awk '{ for (i = 1; i <= NF; i++) s += $i } END { if (NF) printf "%.1f", s / NF }' <<<"$tps_list")"
    R_LAT[$key]="$(percentiles "$BENCH_OUT/log/$key")"
    R_ERR[$key]="${failed}f/${retried}r"
    if ((bad)) || [[ -z "${R_TPS[$key]}" ]]; then
        R_ERR[$key]="ERROR"
        R_NOTE[$key]="$(printf '%s' "$other" | sort -u | head -n 3)"
        STATUS=1
    fi
    # Per-statement means (SQL statements only, not the \set lines),
    # averaged over the rounds.
    R_MEANS[$key]="$(cat "$BENCH_OUT/$key".r*.out | awk '
        /^statement latencies/ { on = 1; k = 0; next }
        /^[^ ]/ { on = 0 }
        on && match($0, /^ *[0-9.]+( +[0-9]+)+ +/) {
            if (substr($0, RLENGTH + 1, 1) != "\\") { k++; s[k] += $1; c[k]++; if (k > n) n = k } }
        END { for (i = 1; i <= n; i++) printf "%s%.3f", (i > 1 ? " / " : ""), s[i] / c[i] }')"
    [[ "$BENCH_KEEP_LOGS" == 1 ]] || rm -f "$BENCH_OUT/log/$key".*
}

# W3 must end exactly right: the hot invoice's amount_paid is the sum of its
# paid payments and of its succeeded PaymentIntents, every run of the script
# added exactly one paid payment, none is left open, and check_invariants()
# finds nothing.
W3_BEFORE=0
w3_state() {
    sql -d "$DB_EXT" -F ' ' -c "
        SELECT i.paid_payment_count, i.open_payment_count, i.amount_paid,
               (SELECT coalesce(sum(p.amount_paid), 0) FROM invoicing.invoice_payments p
                 WHERE p.invoice = i.id AND p.status = 'paid'),
               (SELECT coalesce(sum(pi.amount_received), 0) FROM invoicing.payment_intents pi
                 WHERE pi.invoice = i.id AND pi.status = 'succeeded'),
               i.amount_remaining = greatest(0, i.amount_due - i.amount_paid)
          FROM invoicing.invoices i WHERE i.id = 'in_${1}_0'"
}
declare -A W3_CHECK W3_DELTA W3_RUNS W3_BAD
w3_verify() {
    local w="$1" mode="$2" round="$3" c="$1.$2"
    local out="$BENCH_OUT/$w.$mode.ext.r$round.out" err="$BENCH_OUT/$w.$mode.ext.r$round.err"
    local npaid nopen paid sum_pay sum_pi rem_ok processed invariants other
    read -r npaid nopen paid sum_pay sum_pi rem_ok <<<"$(w3_state "${w,,}")"
    processed="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")"
    invariants="$(sql -d "$DB_EXT" -c "SELECT count(*) FROM invoicing.check_invariants()")"
    other="$(grep 'ERROR' "$err" | grep -v -e 'could not serialize' -e 'deadlock detected' || true)"
    W3_DELTA[$c]=$((${W3_DELTA[$c]:-0} + npaid - W3_BEFORE))
    W3_RUNS[$c]=$((${W3_RUNS[$c]:-0} + ${processed:-0}))
    if ! [[ "$paid" == "$sum_pay" && "$paid" == "$sum_pi" && "$nopen" == 0 && "$rem_ok" == t \
            && $((npaid - W3_BEFORE)) == "${processed:-x}" && "$invariants" == 0 \
            && -z "$other" && "$(cat "${out%.out}.rc")" == 0 ]]; then
        W3_BAD[$c]=1
        STATUS=1
        sql -d "$DB_EXT" -c "SELECT * FROM invoicing.check_invariants() LIMIT 20" \
            >"$BENCH_OUT/$w.$mode.r$round.invariants.txt" || true
    fi
    W3_CHECK[$c]="amount_paid $paid = paid payments $sum_pay = succeeded PaymentIntents $sum_pi; open payments $nopen; check_invariants() $invariants rows"
}

set_mode() {
    # synchronous_commit comes with each pgbench run (PGOPTIONS); fsync is
    # a server setting: on for the default runs, as a user's server has it.
    local fs=off
    [[ "$1" == on && "$BENCH_ON_FSYNC" == on ]] && fs=on
    sql -c "ALTER SYSTEM SET fsync = $fs" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 1
    CUR_FSYNC="$(sql -c "SHOW fsync")"
}

# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------

declare -A MODE_FSYNC
run_table() {
    local mode w r i
    for mode in $BENCH_MODES; do
        set_mode "$mode"
        MODE_FSYNC[$mode]="$CUR_FSYNC"
        i=0
        # Rounds interleave the workloads, so a burst of load from the other
        # users of the machine spreads over all of them.
        for ((r = 1; r <= BENCH_ROUNDS; r++)); do
            for w in $BENCH_WORKLOADS; do
                [[ "$w" == W3* ]] && W3_BEFORE="$(w3_state "${w,,}" | cut -d' ' -f1)"
                # Alternate which side goes first, so drift does not always
                # favour the same side.
                if ((i % 2 == 0)); then run_one "$w" "$mode" ext "$r"; run_one "$w" "$mode" bare "$r"
                else run_one "$w" "$mode" bare "$r"; run_one "$w" "$mode" ext "$r"; fi
                [[ "$w" == W3* ]] && w3_verify "$w" "$mode" "$r"
                i=$((i + 1))
            done
        done
        for w in $BENCH_WORKLOADS; do
            collect "$w.$mode.ext"; collect "$w.$mode.bare"
        done
    done
    set_mode off
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

print_table() {
    local mode w ke kb
    echo
    echo "invoicing $(sql -d "$DB_EXT" -c "SELECT extversion FROM pg_extension WHERE extname = 'invoicing'") (library installed $LIB_AT_START; tree $TREE) benchmark: $(nproc) cores, ${BENCH_ROUNDS} x ${BENCH_SECONDS}s per cell, pgbench -M prepared; tps = script runs per second (ops = statements per run); latency = one script run, ms; errors = failed/retried transactions"
    printf '%-6s %-25s %3s %3s %-9s %9s %9s %8s  %-20s %-20s %s\n' \
        workload "" cl ops sync "ext tps" "bare tps" ext/bare "ext p50/p95/p99" "bare p50/p95/p99" "errors ext, bare"
    for mode in $BENCH_MODES; do
        for w in $BENCH_WORKLOADS; do
            ke="$w.$mode.ext"; kb="$w.$mode.bare"
            printf '%-6s %-25s %3s %3s %-9s %9s %9s %8s  %-20s %-20s %s\n' \
                "$w" "${WL_TITLE[$w]}" "${WL_CLIENTS[$w]}" "${WL_OPS[$w]}" \
                "$mode$([[ "${MODE_FSYNC[$mode]}" == on ]] && echo +fsync)" \
                "${R_TPS[$ke]:--}" "${R_TPS[$kb]:--}" "$(ratio "${R_TPS[$ke]:-}" "${R_TPS[$kb]:-}")" \
                "$(tr ' ' / <<<"${R_LAT[$ke]:-- - -}")" "$(tr ' ' / <<<"${R_LAT[$kb]:-- - -}")" \
                "${R_ERR[$ke]:--}, ${R_ERR[$kb]:--}"
        done
    done
    local k
    for k in "${!R_NOTE[@]}"; do
        [[ -n "${R_NOTE[$k]}" ]] && printf 'ERROR in %s:\n%s\n' "$k" "${R_NOTE[$k]}"
    done
    return 0
}

print_targets() {
    local off r w1 w2
    echo
    echo "targets (synchronous_commit = off):"
    if [[ " $BENCH_MODES " == *" off "* ]]; then
        off=off
        if [[ -n "${R_TPS[W1.off.ext]:-}" ]]; then
            r="$(ratio "${R_TPS[W1.off.ext]}" "${R_TPS[W1.off.bare]:-}")"
            printf '  W1 ext/bare            %5s   target >= 0.60   %s\n' "$r" \
                "$(awk -v r="$r" 'BEGIN { print (r != "-" && r >= 0.6) ? "met" : "NOT MET" }')"
            if [[ -n "${R_TPS[W1doc.off.ext]:-}" ]]; then
                printf '  W1doc (bare + document) %5s   the bare pipeline returning attach_payment'"'"'s document, no rules\n' \
                    "$(ratio "${R_TPS[W1doc.off.ext]}" "${R_TPS[W1doc.off.bare]:-}")"
                printf '  W1 ext / W1doc ext     %5s   the extension against a bare pipeline that returns the same document\n' \
                    "$(ratio "${R_TPS[W1.off.ext]}" "${R_TPS[W1doc.off.ext]}")"
            fi
        fi
        if [[ -n "${R_TPS[W2.off.ext]:-}" && -n "${R_TPS[W1.off.ext]:-}" ]]; then
            # Same script, same clients: per-run cost is 1/tps.
            w1="${R_TPS[W1.off.ext]}"; w2="${R_TPS[W2.off.ext]}"
            r="$(ratio "$w1" "$w2")"
            printf '  W2 cost / W1 cost      %5s   target <= 1.10   %s   (bare: %s)\n' "$r" \
                "$(awk -v r="$r" 'BEGIN { print (r != "-" && r <= 1.1) ? "met" : "NOT MET" }')" \
                "$(ratio "${R_TPS[W1.off.bare]:-}" "${R_TPS[W2.off.bare]:-}")"
        fi
        if [[ -n "${R_TPS[W2.off.ext]:-}" && -n "${R_TPS[W2f.off.ext]:-}" ]]; then
            printf '  W2 cost / W2f cost     %5s   (history alone: same access pattern, no payments; bare: %s)\n' \
                "$(ratio "${R_TPS[W2f.off.ext]}" "${R_TPS[W2.off.ext]}")" \
                "$(ratio "${R_TPS[W2f.off.bare]:-}" "${R_TPS[W2.off.bare]:-}")"
        fi
    fi
    local c
    for mode in $BENCH_MODES; do
        for w in W3 W3rr; do
            c="$w.$mode"
            [[ -n "${W3_CHECK[$c]:-}" ]] || continue
            printf '  %s (%s) %s: %s; %s payments paid for %s script runs; failed/retried %s\n' "$w" "$mode" \
                "$([[ -n "${W3_BAD[$c]:-}" ]] && echo WRONG || echo exact)" "${W3_CHECK[$c]}" \
                "${W3_DELTA[$c]}" "${W3_RUNS[$c]}" "${R_ERR[$w.$mode.ext]:-}"
        done
    done
    echo
    echo "mean latency per statement in script order, ms (pgbench -r), synchronous_commit = off:"
    for w in $BENCH_WORKLOADS; do
        [[ -n "${R_MEANS[$w.off.ext]:-}" ]] || continue
        printf '  %-6s ext  %s\n         bare %s\n' "$w" "${R_MEANS[$w.off.ext]}" "${R_MEANS[$w.off.bare]:-}"
    done
}

# ---------------------------------------------------------------------------
# Profile: perf record -g on the backends during W1 (functions, then DML)
# ---------------------------------------------------------------------------

run_profile() {
    command -v perf >/dev/null || { die "perf is not installed (apt-get install linux-perf)"; return 1; }
    if ! perf stat -e task-clock true >/dev/null 2>&1; then
        die "perf cannot count events here (perf_event_paranoid?)"; return 1
    fi
    # name, workload, extra server options.
    local spec name w opts pids bg
    for spec in ${PROFILE_SPECS:-"W1:W1:" "W1dml:W1dml:"}; do
        IFS=: read -r name w opts <<<"$spec"
        local -a vars=()
        for v in ${WL_VARS[$w]}; do vars+=(-D "$v"); done
        log "profiling $name (${WL_EXT[$w]} $opts) for ${PROFILE_SECONDS}s"
        PGOPTIONS="-c synchronous_commit=off $opts" "$PGBENCH" -n -M prepared -c 2 -j 2 \
            -T $((PROFILE_SECONDS + 5)) "${vars[@]}" -f "$BENCH_DIR/${WL_EXT[$w]}" "$DB_EXT" \
            >"$BENCH_OUT/profile_$name.pgbench.out" 2>&1 &
        bg=$!
        sleep 3
        pids="$(sql -c "SELECT string_agg(pid::text, ',') FROM pg_stat_activity
                         WHERE datname = '$DB_EXT' AND application_name = 'pgbench'")"
        # cpu-clock: this VM has no hardware counters (perf stat -e
        # instructions says <not supported>).  Frame pointers: PostgreSQL
        # and the extension are built with -fno-omit-frame-pointer.
        perf record -q -e cpu-clock -F 1999 -g -p "$pids" -o "$BENCH_OUT/profile_$name.data" \
            -- sleep "$PROFILE_SECONDS" >/dev/null 2>&1 || true
        wait "$bg" || true
        perf script -i "$BENCH_OUT/profile_$name.data" -F ip,sym,dso 2>/dev/null \
            | python3 "$BENCH_DIR/perf_summary.py" --top 30 >"$BENCH_OUT/profile_$name.txt"
        perf report -i "$BENCH_OUT/profile_$name.data" --children --sort symbol --stdio -g none \
            2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 80 >"$BENCH_OUT/profile_$name.children.txt" || true
        echo
        echo "==== profile of $name: $(grep -m1 '^tps' "$BENCH_OUT/profile_$name.pgbench.out" || true)"
        cat "$BENCH_OUT/profile_$name.txt"
    done
    # Where the backends wait: pg_stat_activity sampled every 20 ms.
    for spec in "W1:off" "W1:on" "W3:off" "W3:on"; do
        IFS=: read -r w mode <<<"$spec"
        set_mode "$mode"
        local -a vars=()
        for v in ${WL_VARS[$w]}; do vars+=(-D "$v"); done
        PGOPTIONS="-c synchronous_commit=$mode" "$PGBENCH" -n -M prepared -c "${WL_CLIENTS[$w]}" -j 2 \
            -T $((PROFILE_SECONDS + 4)) "${vars[@]}" -f "$BENCH_DIR/${WL_EXT[$w]}" "$DB_EXT" \
            >"$BENCH_OUT/waits_$w.$mode.pgbench.out" 2>&1 &
        bg=$!
        sleep 2
        sql -c "SELECT 1" >/dev/null
        for ((n = 0; n < PROFILE_SECONDS * 25; n++)); do
            sql -c "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') || ' | ' || left(query, 42)
                      FROM pg_stat_activity WHERE datname = '$DB_EXT' AND application_name = 'pgbench'
                       AND state = 'active'"
            sleep 0.02
        done | sort | uniq -c | sort -rn >"$BENCH_OUT/waits_$w.$mode.txt"
        wait "$bg" || true
        echo
        echo "==== wait events of $w, synchronous_commit=$mode$([[ "$CUR_FSYNC" == on ]] && echo ' (fsync on)'): $(grep -m1 '^tps' "$BENCH_OUT/waits_$w.$mode.pgbench.out" || true)"
        awk '{ n[NR] = $0; t += $1 } END { for (i = 1; i <= NR && i <= 12; i++) { split(n[i], f, " "); printf "%6.1f%%  %s\n", 100 * f[1] / t, substr(n[i], index(n[i], f[2])) } }' \
            "$BENCH_OUT/waits_$w.$mode.txt"
    done
    set_mode off
}

# ---------------------------------------------------------------------------

setup_data
if ((DO_TABLE)); then
    run_table
    print_table | tee "$BENCH_OUT/table.txt"
    print_targets | tee -a "$BENCH_OUT/table.txt"
fi
if ((DO_PROFILE)); then
    run_profile
fi
if ((DO_MEMORY)); then
    echo
    BENCH_DB="$DB_EXT" BENCH_OUT="$BENCH_OUT" INVOICING_LOG="$INVOICING_LOG" \
        MEM_OPS="${MEM_OPS:-1000000}" "$BENCH_DIR/memory.sh" | tee "$BENCH_OUT/memory.txt" || STATUS=1
fi
if ((DO_TABLE)); then
    echo
    echo "check_invariants() on $DB_EXT after all runs: $(sql -d "$DB_EXT" -c "SELECT count(*) FROM invoicing.check_invariants()") rows"
fi
if [[ "$(lib_stamp)" != "$LIB_AT_START" ]]; then
    echo "warning: $LIB_SO was replaced during the benchmark ($LIB_AT_START -> $(lib_stamp)); sessions started after that ran the new build"
fi
echo "details: $BENCH_OUT"
exit "$STATUS"
