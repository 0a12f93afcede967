#!/usr/bin/env bash
# events_consumer: the example consumer (examples/consumer) against a real
# database: it prints every event once, in seq order, resumes from its cursor
# file after a stop without missing or repeating any event, reacts to
# NOTIFY (events committed while it runs are printed without a restart, and
# not before the commit), pages through more than 100 events, and stops
# cleanly (exit 0) on SIGTERM, SIGINT, --max-events and --idle-exit.
#
# Run from the repository root with PGHOST/PGPORT/PGUSER set (scripts/test.sh
# does).  Installs Node.js/npm with apt-get when missing and runs `npm ci` in
# examples/consumer.  Uses its own database ev_consumer.  Exit 0 = pass.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=test/lib/node.sh
source "$ROOT/test/lib/node.sh"
CONSUMER_DIR="$ROOT/examples/consumer"
DB=ev_consumer
WORK="$(mktemp -d /tmp/ev_consumer.XXXXXX)"
CURSOR="$WORK/cursor"
CONSUMER_PID=""

cleanup() {
    if [[ -n "$CONSUMER_PID" ]] && kill -0 "$CONSUMER_PID" 2>/dev/null; then
        kill "$CONSUMER_PID" 2>/dev/null || true
        wait "$CONSUMER_PID" 2>/dev/null || true
    fi
    dropdb --if-exists "$DB" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*"
    for f in "$WORK"/run*.out "$WORK"/run*.err; do
        [[ -e "$f" ]] || continue
        echo "---- $(basename "$f")"; cat "$f"
    done
    exit 1
}

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

# events_since SEQ: the lines the consumer must print for the events after SEQ
events_since() {
    q -c "SELECT seq || ' ' || type || ' ' || object_id FROM invoicing.events WHERE seq > $1 ORDER BY seq"
}
max_seq() { q -c "SELECT coalesce(max(seq), 0) FROM invoicing.events"; }

# start_consumer NAME ARGS...: in the background, stdout to NAME.out
start_consumer() {
    local name="$1"; shift
    (cd "$CONSUMER_DIR" && exec env PGDATABASE="$DB" node consumer.js --cursor-file "$CURSOR" "$@") \
        >"$WORK/$name.out" 2>"$WORK/$name.err" &
    CONSUMER_PID=$!
}

# wait_lines FILE N [SECONDS]: until FILE has N lines
wait_lines() {
    local file="$1" n="$2" limit="${3:-30}" i
    for ((i = 0; i < limit * 10; i++)); do
        (( $(wc -l <"$file") >= n )) && return 0
        sleep 0.1
    done
    fail "$(basename "$file"): $(wc -l <"$file") lines after ${limit}s, expected $n"
}

# stop_consumer SIGNAL: signal it and check it exits 0 and says it stopped
stop_consumer() {
    local rc=0
    kill -"$1" "$CONSUMER_PID"
    wait "$CONSUMER_PID" || rc=$?
    CONSUMER_PID=""
    ((rc == 0)) || fail "consumer exited with status $rc on SIG$1"
}

# wait_exit: a consumer that stops by itself (--max-events, --idle-exit)
wait_exit() {
    local rc=0
    wait "$CONSUMER_PID" || rc=$?
    CONSUMER_PID=""
    ((rc == 0)) || fail "consumer exited with status $rc"
}

# same FILE EXPECTED WHAT: FILE holds exactly the lines EXPECTED
same() {
    if [[ "$(cat "$1")" != "$2" ]]; then
        echo "---- expected ($3)"; printf '%s\n' "$2"
        echo "---- got"; cat "$1"
        fail "$3"
    fi
    echo "ok: $3 ($(grep -c . "$1" || true) events)"
}

# pay_invoices TAG N: N invoices of customer cus_evc, each finalized and paid
# in two PaymentIntents (7 events each), in one transaction
pay_invoices() {
    q -c "DO \$\$
BEGIN
  FOR i IN 1..$2 LOOP
    PERFORM invoicing.create_invoice('cus_evc', 'usd', id => 'in_evc_$1_' || i);
    PERFORM invoicing.add_invoice_line('in_evc_$1_' || i, 5000);
    PERFORM invoicing.finalize_invoice('in_evc_$1_' || i);
    PERFORM invoicing.create_payment_intent('cus_evc', 'usd', 2000, id => 'pi_evc_$1_' || i || 'a');
    PERFORM invoicing.create_payment_intent('cus_evc', 'usd', 3000, id => 'pi_evc_$1_' || i || 'b');
    PERFORM invoicing.attach_payment('in_evc_$1_' || i, 'pi_evc_$1_' || i || 'a');
    PERFORM invoicing.attach_payment('in_evc_$1_' || i, 'pi_evc_$1_' || i || 'b');
    PERFORM invoicing.update_payment_intent('pi_evc_$1_' || i || 'a', 'succeeded');
    PERFORM invoicing.update_payment_intent('pi_evc_$1_' || i || 'b', 'succeeded');
  END LOOP;
END \$\$"
}

ensure_node
npm_ci "$CONSUMER_DIR"

dropdb --if-exists "$DB" >/dev/null 2>&1
createdb "$DB"
q -c "CREATE EXTENSION invoicing" -c "SELECT invoicing.create_customer(id => 'cus_evc')" >/dev/null

# ---- 1. events before the first start: all printed, in seq order
pay_invoices one 3
expected="$(events_since 0)"
n=$(grep -c . <<<"$expected")
((n == 21)) || fail "expected 21 events from 3 invoices, found $n"
start_consumer run1
wait_lines "$WORK/run1.out" "$n"

# ---- 2. while it runs: a transaction held open is not printed before its
# commit, and is printed after it without a restart (NOTIFY)
before=$(max_seq)
q -c "SELECT invoicing.create_invoice('cus_evc', 'usd', id => 'in_evc_live')" \
  -c "SELECT invoicing.add_invoice_line('in_evc_live', 700)" >/dev/null
q >/dev/null <<'SQL' &
BEGIN;
SELECT invoicing.finalize_invoice('in_evc_live');
SELECT invoicing.pay_invoice('in_evc_live');
SELECT pg_sleep(2);
COMMIT;
SQL
txn=$!
sleep 1
lines=$(wc -l <"$WORK/run1.out")
((lines == n)) || fail "the consumer printed $((lines - n)) events of a transaction that has not committed"
wait "$txn"
live="$(events_since "$before")"
nlive=$(grep -c . <<<"$live")
((nlive == 5)) || fail "expected 5 events from the live transaction, found $nlive"
wait_lines "$WORK/run1.out" $((n + nlive)) 10
# a rolled-back transaction while it runs: nothing
q >/dev/null <<'SQL'
BEGIN;
SELECT invoicing.create_invoice('cus_evc', 'usd', id => 'in_evc_rolled_back');
SELECT invoicing.add_invoice_line('in_evc_rolled_back', 700);
SELECT invoicing.finalize_invoice('in_evc_rolled_back');
SELECT invoicing.pay_invoice('in_evc_rolled_back');
ROLLBACK;
SQL
sleep 1
stop_consumer TERM
same "$WORK/run1.out" "$(events_since 0)" "run 1: every event once, in seq order, live ones included"
grep -q '^consumer: SIGTERM, stopping' "$WORK/run1.err" || fail "run 1: no SIGTERM message"
cursor1=$(cat "$CURSOR")
[[ "$cursor1" == "$(max_seq)" ]] || fail "cursor after run 1 is $cursor1, not the last seq $(max_seq)"

# ---- 3. while it is stopped: more payments (more than one page of 100),
# a rolled-back transaction and a failed call; after the restart it prints
# exactly the events after its cursor, in seq order
pay_invoices two 20
q >/dev/null <<'SQL'
BEGIN;
SELECT invoicing.create_invoice('cus_evc', 'usd', id => 'in_evc_rolled_back2');
SELECT invoicing.add_invoice_line('in_evc_rolled_back2', 700);
SELECT invoicing.finalize_invoice('in_evc_rolled_back2');
ROLLBACK;
SQL
if q -c "SELECT invoicing.pay_invoice('in_evc_one_1')" >/dev/null 2>&1; then
    fail "paying a paid invoice succeeded"
fi
pay_invoices three 2
expected2="$(events_since "$cursor1")"
n2=$(grep -c . <<<"$expected2")
((n2 == 154)) || fail "expected 154 events while stopped, found $n2"
start_consumer run2
wait_lines "$WORK/run2.out" "$n2"
# and it keeps listening: one more live payment
before=$(max_seq)
pay_invoices four 1
wait_lines "$WORK/run2.out" $((n2 + 7)) 10
sleep 0.5
stop_consumer INT
same "$WORK/run2.out" "$(events_since "$cursor1")" "run 2 (after a restart): the events after the cursor, none missing, none repeated"
grep -q '^consumer: SIGINT, stopping' "$WORK/run2.err" || fail "run 2: no SIGINT message"
cursor2=$(cat "$CURSOR")
[[ "$cursor2" == "$(max_seq)" ]] || fail "cursor after run 2 is $cursor2, not the last seq $(max_seq)"

# ---- 4. --max-events: exits by itself after N events, cursor on the Nth;
# --idle-exit: exits after the rest when nothing new comes
pay_invoices five 1
expected3="$(events_since "$cursor2")"
start_consumer run3 --max-events 4
wait_exit
same "$WORK/run3.out" "$(head -n 4 <<<"$expected3")" "run 3 (--max-events 4): the first 4"
[[ "$(cat "$CURSOR")" == "$(head -n 4 <<<"$expected3" | tail -n 1 | cut -d' ' -f1)" ]] \
    || fail "cursor after --max-events 4 is $(cat "$CURSOR")"
start_consumer run4 --idle-exit 1500
wait_exit
same "$WORK/run4.out" "$(tail -n +5 <<<"$expected3")" "run 4 (--idle-exit): the rest"
grep -q 'idle for 1500 ms' "$WORK/run4.err" || fail "run 4: no idle message"
# nothing new: a restart prints nothing
start_consumer run5 --idle-exit 1000
wait_exit
same "$WORK/run5.out" "" "run 5: nothing new, nothing printed"

# ---- 5. all runs together: every event exactly once, in seq order
cat "$WORK"/run{1,2,3,4,5}.out >"$WORK/all.out"
same "$WORK/all.out" "$(events_since 0)" "all runs: every event of the database exactly once, in seq order"
# seq strictly increasing across runs
sort -n -c -u -k1,1 "$WORK/all.out" || fail "seqs not strictly increasing across runs"

# ---- 6. bad arguments and a bad cursor file: exit status 2
rc=0; (cd "$CONSUMER_DIR" && PGDATABASE="$DB" node consumer.js --max-events zero >/dev/null 2>&1) || rc=$?
((rc == 2)) || fail "--max-events zero: exit status $rc, not 2"
echo "garbage" >"$WORK/bad.cursor"
rc=0; (cd "$CONSUMER_DIR" && PGDATABASE="$DB" node consumer.js --cursor-file "$WORK/bad.cursor" >/dev/null 2>&1) || rc=$?
((rc == 2)) || fail "a bad cursor file: exit status $rc, not 2"
echo "ok: bad arguments and a bad cursor file exit with status 2"

echo "events_consumer: ok"
