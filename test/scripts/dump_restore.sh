#!/usr/bin/env bash
# test/scripts/dump_restore.sh: pg_dump + pg_restore of a database that uses
# the extension gives back every row, and work continues after the restore.
#
#   PGHOST=... PGPORT=... PGUSER=<superuser> bash test/scripts/dump_restore.sh
#
# The extension's tables and sequences are extension configuration
# (pg_extension_config_dump), so pg_dump dumps their rows and sequence values
# and pg_restore runs CREATE EXTENSION and then COPYs the rows into tables
# that already have the extension's BEFORE triggers.  Those triggers refuse
# rows written by anyone but the extension (derived columns, "must be created
# as a draft", ...), so a plain `pg_restore -d new dump` loses the rows of
# every table but customers (it reports "errors ignored on restore" and exits
# 1).  `pg_restore --disable-triggers` does nothing in a full restore (it
# only acts with --data-only).  The procedure this script tests, and the
# README documents, restores with the triggers off for the restore session
# only (superuser; needed anyway, the extension is superuser = true):
#
#   createdb new
#   PGOPTIONS='-c session_replication_role=replica' \
#       pg_restore --exit-on-error --single-transaction -d new dump
#
# Checks:
#  1. a source database at the newest version with varied data (invoices in
#     every status, payments of both kinds, credit notes with refunds and
#     credits, balance transactions, events) -> pg_dump -Fc;
#  2. (information only) what a plain pg_restore does;
#  3. the documented restore exits 0; every extension table's rows
#     (COPY (SELECT * ... ORDER BY primary key)) and every sequence's state are
#     identical to the source; the triggers are enabled afterwards; the
#     extension is at the newest version; check_invariants() is empty;
#  4. work continues: new customers, invoices, payments and credit notes, on
#     restored and new invoices; a newly finalized invoice's number is new
#     and above the restored ones; new events, balance transactions, payments,
#     credit notes and refunds get seq above every restored seq;
#     check_invariants() is empty;
#  5. the alternative procedure (pre-data, then --data-only --disable-triggers,
#     then post-data) gives the same rows;
#  6. a dump of a database at an older version: restored as above into a
#     cluster whose default_version is newer, CREATE EXTENSION makes the newest
#     version and the old rows miss what the update scripts would have
#     backfilled (information only); the procedure that works (CREATE
#     EXTENSION at the dump's version first, restore without the SCHEMA and
#     EXTENSION entries, then ALTER EXTENSION UPDATE) is checked.
# Exit status 0 when every check passes.  Databases: inv_dr_*_<pid>_<n>,
# dropped on exit (INVOICING_KEEP_DBS=1 keeps them).
# ok and fail always return 0, so "cmd && ok ... || fail ..." is an if-then-else.
# shellcheck disable=SC2015
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=test/scripts/lib/common.bash
source "$REPO_ROOT/test/scripts/lib/common.bash"
trap cleanup EXIT
START=$SECONDS
D="$_T_TMPDIR"
NEWEST="$(q "$ADMIN_DB" "SELECT default_version FROM pg_available_extensions WHERE name = '$EXT'")"
OLDEST="$(q "$ADMIN_DB" "SELECT version FROM pg_available_extension_versions WHERE name = '$EXT'" \
          | sort -V | head -n 1)"
extversion() { q "$1" "SELECT extversion FROM pg_extension WHERE extname = '$EXT'"; }

# snapshot DB PREFIX: every extension table's rows and sequence's state, one
# file per object (PREFIX.<name>)
snapshot() {
    local db="$1" prefix="$2" t s
    for t in $(ext_tables "$db"); do
        "${PSQL[@]}" -d "$db" -c "COPY (SELECT * FROM $t ORDER BY $(order_by "$db" "$t")) TO STDOUT" \
            >"$prefix.$t"
    done
    for s in $(ext_sequences "$db"); do
        q "$db" "SELECT last_value, is_called FROM $s" >"$prefix.$s"
    done
}

# compare_snapshots LABEL SRC-DB PREFIX-A PREFIX-B
compare_snapshots() {
    local label="$1" db="$2" a="$3" b="$4" t n bad=0
    for t in $(ext_tables "$db") $(ext_sequences "$db"); do
        if ! cmp -s "$a.$t" "$b.$t"; then
            bad=1
            fail "$label: $t differs from the source"
            diff -u --label "source $t" --label "restored $t" "$a.$t" "$b.$t" | head -n 20 \
                | sed 's/^/      /' || true
        fi
    done
    if ((bad == 0)); then
        n=$(cat "$a".invoicing.* | wc -l)
        ok "$label: every table's rows and every sequence identical to the source ($n lines)"
    fi
    return $bad
}

# ---------------------------------------------------------------------------
section "1. source database at $NEWEST with varied data"
SRC="$(new_db dr_src)"
q "$SRC" "CREATE EXTENSION $EXT" >/dev/null
{ fixture_sql dr; fixture_continue_sql dr 1; } | run_sql "$SRC" "source data" \
    && ok "source: invoices in every status, payments, credit notes, balance transactions" \
    || fail "source: creating the data failed"
check_invariants "$SRC" "source" || true
summary="$(q "$SRC" "SELECT string_agg(format('%s %s', c.relname, (xpath('/row/n/text()',
                       query_to_xml(format('SELECT count(*) AS n FROM %s', c.oid::regclass), false, true, '')))[1]::text),
                       ', ' ORDER BY c.relname)
                       FROM pg_class c JOIN pg_depend d ON d.objid = c.oid AND d.classid = 'pg_class'::regclass
                      WHERE d.deptype = 'e' AND c.relkind = 'r'
                        AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = '$EXT')")"
note "rows: $summary"
[[ "$(q "$SRC" "SELECT count(*) > 0 FROM invoicing.events")" == t ]] \
    && ok "source has events" || fail "source has no events"
snapshot "$SRC" "$D/src"
"$PG_BINDIR/pg_dump" -Fc -f "$D/src.dump" -d "$SRC"
ok "pg_dump -Fc of the source ($(stat -c %s "$D/src.dump") bytes)"

# ---------------------------------------------------------------------------
section "2. (information) plain pg_restore -d new dump"
PLAIN="$(new_db dr_plain)"
set +e
"$PG_BINDIR/pg_restore" -d "$PLAIN" "$D/src.dump" >"$D/plain.log" 2>&1
rc=$?
set -e
note "plain pg_restore exit status $rc; $(grep -c 'COPY failed' "$D/plain.log" || true) COPY commands failed:"
grep -E 'COPY failed|errors ignored' "$D/plain.log" | sed -E 's/^pg_restore: (error|warning): //' \
    | cut -c1-150 | sed 's/^/        /' || true
for t in $(ext_tables "$SRC"); do
    note "  $t: $(q "$PLAIN" "SELECT count(*) FROM $t") of $(wc -l <"$D/src.$t") rows restored"
done

# ---------------------------------------------------------------------------
section "3. documented restore: PGOPTIONS='-c session_replication_role=replica' pg_restore --exit-on-error --single-transaction"
NEW="$(new_db dr_new)"
if PGOPTIONS="${PGOPTIONS:-} -c session_replication_role=replica" \
    "$PG_BINDIR/pg_restore" --exit-on-error --single-transaction -d "$NEW" "$D/src.dump" \
    >"$D/restore.log" 2>&1; then
    ok "restore exited 0"
else
    fail "restore failed:"; sed 's/^/      /' "$D/restore.log"
fi
snapshot "$NEW" "$D/new"
compare_snapshots "restored" "$SRC" "$D/src" "$D/new" || true
[[ "$(extversion "$NEW")" == "$NEWEST" ]] && ok "restored extension is at $NEWEST" \
    || fail "restored extension is at $(extversion "$NEW"), not $NEWEST"
disabled="$(q "$NEW" "SELECT string_agg(tgrelid::regclass || '.' || tgname || '=' || tgenabled::text, ', ')
                       FROM pg_trigger WHERE tgenabled <> 'O'
                        AND tgrelid IN (SELECT objid FROM pg_depend WHERE deptype = 'e'
                             AND refobjid = (SELECT oid FROM pg_extension WHERE extname = '$EXT'))")"
[[ -z "$disabled" ]] && ok "every trigger of the extension's tables is enabled after the restore" \
    || fail "triggers not enabled after the restore: $disabled"
check_invariants "$NEW" "restored" || true

# ---------------------------------------------------------------------------
section "4. work continues in the restored database"
if out="$(sql_out "$NEW" "work after restore" <<SQL
CREATE TEMP TABLE before AS
SELECT 'events' AS tbl, max(seq) AS max_seq FROM invoicing.events
UNION ALL SELECT 'customer_balance_transactions', max(seq) FROM invoicing.customer_balance_transactions
UNION ALL SELECT 'invoice_payments', max(seq) FROM invoicing.invoice_payments
UNION ALL SELECT 'credit_notes', max(seq) FROM invoicing.credit_notes
UNION ALL SELECT 'refunds', max(seq) FROM invoicing.refunds;
CREATE TEMP TABLE old_ids AS
SELECT id FROM invoicing.events UNION ALL SELECT id FROM invoicing.customer_balance_transactions
UNION ALL SELECT id FROM invoicing.invoice_payments UNION ALL SELECT id FROM invoicing.credit_notes
UNION ALL SELECT id FROM invoicing.refunds UNION ALL SELECT id FROM invoicing.invoices
UNION ALL SELECT id FROM invoicing.customers UNION ALL SELECT id FROM invoicing.payment_intents
UNION ALL SELECT id FROM invoicing.invoice_lines;
CREATE TEMP TABLE old_numbers AS
SELECT number FROM invoicing.invoices WHERE number IS NOT NULL
UNION ALL SELECT number FROM invoicing.credit_notes;
-- restored objects: more payments and credit notes (refunds out of restored
-- payments), an old draft finalized
$(fixture_continue_sql dr after_restore)
-- a restored draft is finalized
SELECT invoicing.finalize_invoice('in_dr_draft');
-- brand-new objects with generated ids
CREATE TEMP TABLE fresh AS
SELECT invoicing.create_customer('new@example.com', 'New') AS customer;
SELECT invoicing.adjust_customer_balance((SELECT customer FROM fresh), 'usd', -100);
CREATE TEMP TABLE fresh_inv AS
SELECT invoicing.create_invoice((SELECT customer FROM fresh), 'usd') AS invoice;
SELECT invoicing.add_invoice_line((SELECT invoice FROM fresh_inv), 5000);
SELECT invoicing.finalize_invoice((SELECT invoice FROM fresh_inv));
CREATE TEMP TABLE fresh_pi AS
SELECT invoicing.create_payment_intent((SELECT customer FROM fresh), 'usd', 3000) AS pi;
SELECT invoicing.attach_payment((SELECT invoice FROM fresh_inv), (SELECT pi FROM fresh_pi));
SELECT invoicing.update_payment_intent((SELECT pi FROM fresh_pi), 'succeeded');
-- due 4900, paid 3000: 1900 pre-payment, 100 refunded and credited
SELECT invoicing.create_credit_note((SELECT invoice FROM fresh_inv), 2000, refund_amount => 50,
                                    credit_amount => 50);
SELECT invoicing.create_credit_note((SELECT invoice FROM fresh_inv), 100, out_of_band_amount => 100);
SELECT pg_temp.expect(status = 'paid', 'new invoice paid') FROM invoicing.invoices
 WHERE id = (SELECT invoice FROM fresh_inv);
-- what this session wrote must not collide with what was restored
SELECT pg_temp.expect(n.min_seq IS NOT NULL AND n.min_seq > b.max_seq,
                      format('%s: new seq %s above the restored maximum %s', b.tbl, n.min_seq, b.max_seq))
  FROM before b
  JOIN LATERAL (SELECT min(x.seq) AS min_seq FROM (
        SELECT seq FROM invoicing.events e WHERE b.tbl = 'events' AND e.id NOT IN (SELECT id FROM old_ids)
        UNION ALL SELECT seq FROM invoicing.customer_balance_transactions t
         WHERE b.tbl = 'customer_balance_transactions' AND t.id NOT IN (SELECT id FROM old_ids)
        UNION ALL SELECT seq FROM invoicing.invoice_payments p
         WHERE b.tbl = 'invoice_payments' AND p.id NOT IN (SELECT id FROM old_ids)
        UNION ALL SELECT seq FROM invoicing.credit_notes c
         WHERE b.tbl = 'credit_notes' AND c.id NOT IN (SELECT id FROM old_ids)
        UNION ALL SELECT seq FROM invoicing.refunds r
         WHERE b.tbl = 'refunds' AND r.id NOT IN (SELECT id FROM old_ids)) x) n ON true;
SELECT pg_temp.expect(count(*) = 2, 'two invoices (a restored draft, a new one) numbered after the restore')
  FROM invoicing.invoices WHERE number NOT IN (SELECT number FROM old_numbers);
SELECT pg_temp.expect(i.number > (SELECT max(number) FROM old_numbers WHERE number NOT LIKE '%-CN-%'),
                      format('invoice %s: new number %s above the restored ones', i.id, i.number))
  FROM invoicing.invoices i WHERE i.number NOT IN (SELECT number FROM old_numbers);
SELECT 'INFO: ' || format('new events: %s (seq %s..%s; restored up to %s)', count(*), min(seq), max(seq),
                          (SELECT max_seq FROM before WHERE tbl = 'events'))
  FROM invoicing.events WHERE id NOT IN (SELECT id FROM old_ids);
SELECT 'INFO: ' || format('new invoice numbers: %s (restored up to %s)', string_agg(number, ' ' ORDER BY number),
                          (SELECT max(number) FROM old_numbers WHERE number NOT LIKE '%-CN-%'))
  FROM invoicing.invoices WHERE number NOT IN (SELECT number FROM old_numbers);
SELECT 'INFO: ' || format('new credit note numbers: %s', string_agg(number, ' ' ORDER BY number))
  FROM invoicing.credit_notes WHERE number NOT IN (SELECT number FROM old_numbers);
SQL
)"; then
    grep '^INFO: ' <<<"$out" | sed 's/^INFO: /      /'
    ok "after the restore: new customers, invoices, payments, credit notes work; invoice and credit note numbers and every seq are above the restored ones"
else
    fail "work after the restore failed"
fi
check_invariants "$NEW" "restored, after new work" || true

# ---------------------------------------------------------------------------
section "5. alternative: --section=pre-data, --data-only --disable-triggers, --section=post-data"
ALT="$(new_db dr_alt)"
if "$PG_BINDIR/pg_restore" --exit-on-error --section=pre-data -d "$ALT" "$D/src.dump" >"$D/alt.log" 2>&1 \
   && "$PG_BINDIR/pg_restore" --exit-on-error --single-transaction --data-only --disable-triggers \
        -d "$ALT" "$D/src.dump" >>"$D/alt.log" 2>&1 \
   && "$PG_BINDIR/pg_restore" --exit-on-error --section=post-data -d "$ALT" "$D/src.dump" \
        >>"$D/alt.log" 2>&1; then
    ok "three-step restore exited 0"
else
    fail "three-step restore failed:"; sed 's/^/      /' "$D/alt.log"
fi
snapshot "$ALT" "$D/alt"
compare_snapshots "three-step restore" "$SRC" "$D/src" "$D/alt" || true
check_invariants "$ALT" "three-step restore" || true

# ---------------------------------------------------------------------------
if [[ "$OLDEST" != "$NEWEST" ]]; then
    section "6. a dump of a database at $OLDEST, restored where default_version is $NEWEST"
    OLD="$(new_db dr_old)"
    q "$OLD" "CREATE EXTENSION $EXT VERSION '$OLDEST'" >/dev/null
    fixture_sql old | run_sql "$OLD" "data at $OLDEST" && ok "source at $OLDEST with data" \
        || fail "source at $OLDEST: creating the data failed"
    "$PG_BINDIR/pg_dump" -Fc -f "$D/old.dump" -d "$OLD"
    # (information) as in section 3: CREATE EXTENSION in the dump makes the
    # newest version; the rows come from the old version's tables
    NAIVE="$(new_db dr_old_naive)"
    PGOPTIONS="${PGOPTIONS:-} -c session_replication_role=replica" \
        "$PG_BINDIR/pg_restore" --exit-on-error --single-transaction -d "$NAIVE" "$D/old.dump" \
        >"$D/naive.log" 2>&1 || true
    n="$(q "$NAIVE" "SELECT count(*) FROM invoicing.check_invariants()" 2>/dev/null || echo '?')"
    note "restored as in 3: extension at $(extversion "$NAIVE"), check_invariants() has $n rows:"
    q "$NAIVE" "SELECT object_id || ': ' || invariant || ': ...' || right(detail, 50)
                  FROM invoicing.check_invariants() LIMIT 5" \
        2>/dev/null | sed 's/^/        /' || true
    # the procedure for an older dump
    OLDNEW="$(new_db dr_old_new)"
    q "$OLDNEW" "CREATE EXTENSION $EXT VERSION '$OLDEST'" >/dev/null
    "$PG_BINDIR/pg_restore" -l "$D/old.dump" | grep -Ev "^[0-9]+; [0-9]+ [0-9]+ (SCHEMA|EXTENSION) - $EXT " \
        >"$D/old.list"
    if PGOPTIONS="${PGOPTIONS:-} -c session_replication_role=replica" \
        "$PG_BINDIR/pg_restore" --exit-on-error --single-transaction -L "$D/old.list" -d "$OLDNEW" \
        "$D/old.dump" >"$D/oldnew.log" 2>&1; then
        ok "older dump: CREATE EXTENSION $EXT VERSION '$OLDEST', restore without SCHEMA/EXTENSION entries: exit 0"
    else
        fail "older dump: restore failed:"; sed 's/^/      /' "$D/oldnew.log"
    fi
    snapshot "$OLD" "$D/oldsrc"
    snapshot "$OLDNEW" "$D/oldnew"
    compare_snapshots "older dump restored at $OLDEST" "$OLD" "$D/oldsrc" "$D/oldnew" || true
    check_invariants "$OLDNEW" "older dump restored at $OLDEST" || true
    q "$OLDNEW" "ALTER EXTENSION $EXT UPDATE" >/dev/null
    [[ "$(extversion "$OLDNEW")" == "$NEWEST" ]] && ok "older dump: ALTER EXTENSION $EXT UPDATE to $NEWEST" \
        || fail "older dump: extension at $(extversion "$OLDNEW") after ALTER EXTENSION UPDATE"
    check_invariants "$OLDNEW" "older dump, updated to $NEWEST" || true
    fixture_continue_sql old after_restore | run_sql "$OLDNEW" "older dump: work" \
        && ok "older dump, updated: payments and credit notes on the restored objects" \
        || fail "older dump, updated: work on the restored objects failed"
    check_invariants "$OLDNEW" "older dump, updated, after new work" || true
fi

note "time: $((SECONDS - START)) s"
finish
