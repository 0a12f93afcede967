#!/usr/bin/env bash
# bench/memory.sh: backend memory over MEM_OPS (default 1,000,000) operations
# in ONE session.  Called by bench/run.sh (which makes the cluster and the
# bench database); not meant to be run alone.
#
# The session alternates a server-side batch (bench.memory_batch: MEM_BATCH
# rounds of ten operations in one transaction) with the same ten operations
# sent one statement at a time (each its own transaction, as a client makes
# them), so both the per-call and the per-transaction paths run.  Every
# MEM_SAMPLE operations it reads /proc/<backend pid>/status: VmRSS, and
# RssAnon (the backend's private memory: palloc'd and malloc'd -- where a
# jansson or SPI leak would show -- without the shared buffers it touches).
# It also logs the backend's memory contexts (pg_log_backend_memory_contexts)
# after warm-up and at the end, and reads their grand totals from the log.
#
# Environment: PGHOST/PGPORT/PGUSER, BENCH_DB, BENCH_OUT, INVOICING_LOG, and
# MEM_OPS, MEM_BATCH (default 50), MEM_SAMPLE (default 100000),
# MEM_TOLERANCE_KB (default 4096: growth of RssAnon after warm-up that still
# counts as flat).
# Prints a small table and a verdict line; exits 1 when memory grew.
set -euo pipefail

: "${BENCH_DB:?}" "${BENCH_OUT:?}"
MEM_OPS="${MEM_OPS:-1000000}"
MEM_BATCH="${MEM_BATCH:-50}"
MEM_SAMPLE="${MEM_SAMPLE:-100000}"
MEM_TOLERANCE_KB="${MEM_TOLERANCE_KB:-4096}"
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PSQL=(/usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1)

per_cycle=$((MEM_BATCH * 10 + 10))
cycles=$(((MEM_OPS + per_cycle - 1) / per_cycle))
samples="$BENCH_OUT/memory_samples.txt"
script="$BENCH_OUT/memory_session.sql"
: >"$samples"

"${PSQL[@]}" -d "$BENCH_DB" -f "$BENCH_DIR/memory_setup.sql" >/dev/null

# One psql script = one session.  Sampling runs in psql's \! shell, which
# knows the backend pid through \setenv.
{
    echo '\o /dev/null'
    echo 'SELECT pg_backend_pid() AS pid \gset'
    echo '\setenv BENCH_PID :pid'
    echo "\\setenv BENCH_SAMPLES $samples"
    sample() {
        echo "\\! awk -v ops=$1 '/^VmRSS:/ {r=\$2} /^RssAnon:/ {a=\$2} END {print ops, r, a}' /proc/\$BENCH_PID/status >> \$BENCH_SAMPLES"
    }
    sample 0
    ops=0
    next_sample=$MEM_SAMPLE
    warm_logged=0
    for ((c = 0; c < cycles; c++)); do
        echo "SELECT bench.memory_batch($MEM_BATCH);"
        cat <<'SQL'
SELECT invoicing.create_payment_intent('cus_mem_0', 'usd', 7) AS pi \gset
SELECT invoicing.attach_payment('in_mem_0', :'pi');
SELECT invoicing.update_payment_intent(:'pi', 'succeeded');
SELECT invoicing.create_credit_note('in_mem_0', 1, memo => 'bench') ->> 'id' AS cn \gset
SELECT invoicing.credit_note_json(:'cn');
SELECT invoicing.void_credit_note(:'cn');
SELECT invoicing.preview_credit_note('in_mem_0', 2);
SELECT invoicing.invoice_json('in_mem_0', '{payments}');
SELECT invoicing.invoice_json('in_mem_0');
SELECT invoicing.payment_intent_json(:'pi');
SQL
        ops=$((ops + per_cycle))
        if ((ops >= next_sample || c == cycles - 1)); then
            sample "$ops"
            if ((warm_logged == 0)); then
                echo 'SELECT pg_log_backend_memory_contexts(pg_backend_pid());'
                echo 'SELECT 1;'
                warm_logged=1
            fi
            next_sample=$((next_sample + MEM_SAMPLE))
        fi
    done
    echo 'SELECT pg_log_backend_memory_contexts(pg_backend_pid());'
    echo 'SELECT 1;'
} >"$script"

log_lines_before=0
if [[ -n "${INVOICING_LOG:-}" && -r "$INVOICING_LOG" ]]; then
    log_lines_before=$(wc -l <"$INVOICING_LOG")
fi
start=$(date +%s)
"${PSQL[@]}" -d "$BENCH_DB" -f "$script" >/dev/null
elapsed=$(($(date +%s) - start))

# Grand totals of the memory-context dumps (warm-up, end).
totals=()
if [[ -n "${INVOICING_LOG:-}" && -r "$INVOICING_LOG" ]]; then
    sleep 1
    mapfile -t totals < <(tail -n +"$((log_lines_before + 1))" "$INVOICING_LOG" \
        | grep -o 'Grand total: [0-9]* bytes' | grep -o '[0-9]*')
fi

awk -v tol="$MEM_TOLERANCE_KB" -v secs="$elapsed" -v ctx="${totals[*]:-}" '
    { ops[NR] = $1; rss[NR] = $2; anon[NR] = $3 }
    END {
        printf "memory: %d operations in one session (%d s); backend /proc status, kB\n", ops[NR], secs
        printf "  %12s %10s %10s\n", "operations", "VmRSS", "RssAnon"
        for (i = 1; i <= NR; i++) printf "  %12d %10d %10d\n", ops[i], rss[i], anon[i]
        w = (NR >= 2) ? 2 : 1          # first sample after warm-up
        growth = anon[NR] - anon[w]
        span = ops[NR] - ops[w]
        printf "  RssAnon after warm-up (%d ops): %d kB -> %d kB at %d ops: %+d kB (%.2f bytes/op)\n",
            ops[w], anon[w], anon[NR], ops[NR], growth, (span > 0 ? growth * 1024.0 / span : 0)
        n = split(ctx, c, " ")
        if (n >= 2)
            printf "  memory contexts (pg_log_backend_memory_contexts) grand total: %d bytes after warm-up, %d bytes at the end\n", c[1], c[n]
        verdict = (growth <= tol) ? "FLAT" : "GROWING"
        printf "  verdict: %s (tolerance %d kB of RssAnon growth after warm-up)\n", verdict, tol
        exit (growth > tol)
    }' "$samples"
