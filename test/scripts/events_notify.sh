#!/usr/bin/env bash
# events_notify: NOTIFY invoicing_events, '<event id>' (SPEC 6).
#
# One psql session LISTENs on invoicing_events and makes changes.  psql prints
# "Asynchronous notification ... with payload "<id>" received from server
# process with PID <pid>" after the command during which the server sent
# it, which pg_regress cannot compare (the PID and the ids vary), so this
# script compares a transcript in which each notification's payload is
# replaced by the position of that event id among the events of the step
# (ordered by seq) and the PID by "self" when it is the session's own.
# It checks: one notification per event, payload = the event id, in seq
# order, sent only at commit (none while the transaction is open), none for
# a rolled-back transaction or savepoint, none for a failed call.
#
# Run from the repository root with PGHOST/PGPORT/PGUSER set (scripts/test.sh
# does); uses its own database ev_notify.  Exit status 0 = pass.
set -euo pipefail

DB=ev_notify
export PGDATABASE=postgres
dropdb --if-exists "$DB" >/dev/null 2>&1
createdb "$DB"
trap 'dropdb --if-exists "$DB" >/dev/null 2>&1 || true' EXIT

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

q >/dev/null <<'SQL'
CREATE EXTENSION invoicing;
SELECT invoicing.create_customer(id => 'cus_evn1');
SELECT invoicing.create_invoice('cus_evn1', 'usd', id => 'in_evn1');
SELECT invoicing.add_invoice_line('in_evn1', 10000);
SELECT invoicing.finalize_invoice('in_evn1');
SELECT invoicing.create_payment_intent('cus_evn1', 'usd', 3000, id => 'pi_evn1');
SELECT invoicing.create_payment_intent('cus_evn1', 'usd', 3000, id => 'pi_evn2');
SELECT invoicing.create_payment_intent('cus_evn1', 'usd', 4000, id => 'pi_evn3');
SELECT invoicing.create_payment_intent('cus_evn1', 'usd', 1000, 'canceled', id => 'pi_evn_x');
SELECT invoicing.attach_payment('in_evn1', 'pi_evn1');
SELECT invoicing.attach_payment('in_evn1', 'pi_evn2');
SELECT invoicing.attach_payment('in_evn1', 'pi_evn3');
SQL

# The session: markers "step <name> <max seq before the step>" and
# "pid <backend pid>"; everything else it prints is notifications.
raw="$(q 2>&1 <<'SQL' || true
\set VERBOSITY terse
LISTEN invoicing_events;
SELECT 'pid ' || pg_backend_pid();
-- a committed transaction: nothing while it is open, everything at commit
SELECT 'step commit ' || coalesce(max(seq), 0) FROM invoicing.events;
BEGIN;
SELECT 'in transaction: ' || (invoicing.update_payment_intent('pi_evn1', 'succeeded')->>'status');
SELECT 'in transaction, events written: ' || count(*) FROM invoicing.events;
SELECT 'committing';
COMMIT;
SELECT 'committed';
-- a rolled-back transaction: no notification
SELECT 'step rollback ' || coalesce(max(seq), 0) FROM invoicing.events;
BEGIN;
SELECT 'in transaction: ' || (invoicing.update_payment_intent('pi_evn2', 'succeeded')->>'status');
ROLLBACK;
SELECT 'rolled back';
-- a failed call: no notification
SELECT 'step failure ' || coalesce(max(seq), 0) FROM invoicing.events;
\set ON_ERROR_STOP 0
SELECT invoicing.update_payment_intent('pi_evn_x', 'succeeded');
\set ON_ERROR_STOP 1
SELECT 'failed';
-- a rolled-back savepoint: only what survives is announced, at commit
SELECT 'step savepoint ' || coalesce(max(seq), 0) FROM invoicing.events;
BEGIN;
SELECT 'in transaction: ' || (invoicing.update_payment_intent('pi_evn2', 'succeeded')->>'status');
SAVEPOINT s;
SELECT 'in savepoint: ' || (invoicing.update_payment_intent('pi_evn3', 'succeeded')->>'status');
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT 'committed';
-- autocommit: announced right after the statement
SELECT 'step autocommit ' || coalesce(max(seq), 0) FROM invoicing.events;
SELECT 'autocommit: ' || (invoicing.update_payment_intent('pi_evn3', 'succeeded')->>'status');
SELECT 'step end ' || coalesce(max(seq), 0) FROM invoicing.events;
SQL
)"

echo "---- session output"
printf '%s\n' "$raw"

# normalize: payload -> position among the step's events (seq order), PID ->
# self/other
pid=""
steps=()   # the "max seq before" of each step, in order
while IFS= read -r line; do
    [[ "$line" =~ ^step\ [a-z]+\ ([0-9]+)$ ]] && steps+=("${BASH_REMATCH[1]}")
done <<<"$raw"
step=-1
declare -A pos=()
transcript=""
re_note='^Asynchronous notification "([^"]*)" with payload "([^"]*)" received from server process with PID ([0-9]+)\.$'
while IFS= read -r line; do
    if [[ "$line" =~ ^pid\ ([0-9]+)$ ]]; then
        pid="${BASH_REMATCH[1]}"
        transcript+="pid"$'\n'
    elif [[ "$line" =~ ^step\ ([a-z]+)\ ([0-9]+)$ ]]; then
        step=$((step + 1))
        upto=""
        if ((step + 1 < ${#steps[@]})); then upto=" AND seq <= ${steps[step + 1]}"; fi
        pos=()
        n=0
        while IFS= read -r id; do
            [[ -n "$id" ]] || continue
            n=$((n + 1)); pos["$id"]="$n"
        done < <(q -c "SELECT id FROM invoicing.events WHERE seq > ${steps[step]}$upto ORDER BY seq")
        transcript+="step ${BASH_REMATCH[1]} ($n events)"$'\n'
    elif [[ "$line" =~ $re_note ]]; then
        chan="${BASH_REMATCH[1]}"; payload="${BASH_REMATCH[2]}"; from="${BASH_REMATCH[3]}"
        who=other; [[ "$from" == "$pid" ]] && who=self
        transcript+="notification on $chan: event ${pos[$payload]:-UNKNOWN($payload)} of the step, from $who"$'\n'
    elif [[ "$line" == ERROR:* ]]; then
        transcript+="ERROR"$'\n'
    else
        transcript+="$line"$'\n'
    fi
done <<<"$raw"

expected='pid
step commit (2 events)
in transaction: succeeded
in transaction, events written: EVENTS_IN_TX
committing
notification on invoicing_events: event 1 of the step, from self
notification on invoicing_events: event 2 of the step, from self
committed
step rollback (0 events)
in transaction: succeeded
rolled back
step failure (0 events)
ERROR
failed
step savepoint (2 events)
in transaction: succeeded
in savepoint: succeeded
notification on invoicing_events: event 1 of the step, from self
notification on invoicing_events: event 2 of the step, from self
committed
step autocommit (4 events)
autocommit: succeeded
notification on invoicing_events: event 1 of the step, from self
notification on invoicing_events: event 2 of the step, from self
notification on invoicing_events: event 3 of the step, from self
notification on invoicing_events: event 4 of the step, from self
step end (0 events)
'
# the event count inside the transaction is the total at that point
# (fixtures wrote invoice.finalized): take it from the transcript itself
expected="${expected/EVENTS_IN_TX/$(sed -n 's/^in transaction, events written: //p' <<<"$transcript")}"

echo "---- normalized transcript"
printf '%s' "$transcript"
if [[ "$transcript" != "$expected" ]]; then
    echo "---- FAIL: differs from the expected transcript"
    diff <(printf '%s' "$expected") <(printf '%s' "$transcript") || true
    exit 1
fi
# the events of the steps, by type: what was announced
echo "---- events"
q -c "SELECT seq, type FROM invoicing.events ORDER BY seq"
echo "events_notify: ok"
