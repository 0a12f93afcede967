# shellcheck shell=bash
# test/scripts/lib/common.bash: helpers shared by test/scripts/upgrade.sh and
# test/scripts/dump_restore.sh.  Source it; it is not a test (scripts/test.sh
# runs test/scripts/*.sh only, not this directory).
#
# Needs PGHOST/PGPORT/PGUSER (a superuser) pointing at a cluster where the
# extension's files are installed.  Every database a script makes is named
# inv_<script>_<pid>_<n> and dropped on exit (set INVOICING_KEEP_DBS=1 to keep
# them for a post-mortem).

PG_BINDIR=/usr/lib/postgresql/15/bin
PSQL=("$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 --no-psqlrc)
EXT=invoicing
# where the scripts ask cluster-wide questions (available versions)
# shellcheck disable=SC2034  # used by the scripts that source this file
ADMIN_DB="${PGDATABASE:-postgres}"

T_FAILED=0
T_CHECKS=0
_T_TMPDIR="$(mktemp -d "${TMPDIR:-/tmp}/invoicing-test.XXXXXX")"

# ok/fail/check: bookkeeping.  fail does not exit: a script reports every
# failing check, and exits non-zero at the end (finish).
ok()   { T_CHECKS=$((T_CHECKS + 1)); printf 'ok    %s\n' "$*"; }
fail() { T_CHECKS=$((T_CHECKS + 1)); T_FAILED=$((T_FAILED + 1)); printf 'FAIL  %s\n' "$*"; }
note() { printf '      %s\n' "$*"; }
section() { printf -- '-- %s\n' "$*"; }

# new_db NAME-PART: create a database with a unique name, print the name.
# (Called as "$(new_db x)", a subshell: the counter and the list of databases
# to drop live in files.)
new_db() {
    local n name
    n=$(($(cat "$_T_TMPDIR/dbcount" 2>/dev/null || echo 0) + 1))
    echo "$n" >"$_T_TMPDIR/dbcount"
    name="inv_${1}_$$_${n}"
    "$PG_BINDIR/createdb" "$name" || return 1
    echo "$name" >>"$_T_TMPDIR/dbs"
    echo "$name"
}

cleanup() {
    local db
    if [[ "${INVOICING_KEEP_DBS:-0}" == 1 ]]; then
        echo "kept databases: $(tr '\n' ' ' <"$_T_TMPDIR/dbs" 2>/dev/null); files in $_T_TMPDIR"
        return 0
    fi
    if [[ -f "$_T_TMPDIR/dbs" ]]; then
        while read -r db; do
            "$PG_BINDIR/dropdb" --if-exists "$db" >/dev/null 2>&1 || true
        done <"$_T_TMPDIR/dbs"
    fi
    rm -rf "$_T_TMPDIR"
}

finish() {
    echo
    if ((T_FAILED > 0)); then
        echo "$(basename "$0"): $T_FAILED of $T_CHECKS checks FAILED"
        exit 1
    fi
    echo "$(basename "$0"): all $T_CHECKS checks passed"
    exit 0
}

# q DB SQL: one value (or rows) unaligned, no headers.
q() { "${PSQL[@]}" -At -d "$1" -c "$2"; }

# run_sql DB LABEL: run SQL from stdin with the helpers of PRELUDE_SQL; on
# error print the output and return 1.
PRELUDE_SQL=$(cat <<'SQL'
SET client_min_messages = warning;
-- expect(cond, what): raise unless cond is true
CREATE FUNCTION pg_temp.expect(cond boolean, what text) RETURNS void
LANGUAGE plpgsql AS $f$
BEGIN
    IF cond IS NOT TRUE THEN
        RAISE EXCEPTION 'expectation failed: %', what;
    END IF;
END
$f$;
-- has_function(name): the database's version of the extension has it
CREATE FUNCTION pg_temp.has_function(fname text) RETURNS boolean
LANGUAGE sql AS $f$
    SELECT EXISTS (SELECT FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = 'invoicing' AND p.proname = fname)
$f$;
-- ext_rows(): every row of every table of the extension, keyed by table and
-- primary key, as jsonb
CREATE FUNCTION pg_temp.ext_rows() RETURNS TABLE (tbl text, key text, r jsonb)
LANGUAGE plpgsql AS $f$
DECLARE
    rel     regclass;
    keyexpr text;
BEGIN
    FOR rel IN
        SELECT c.oid::regclass FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
         WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e'
           AND d.refclassid = 'pg_extension'::regclass
           AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'invoicing')
           AND c.relkind IN ('r', 'p')
         ORDER BY 1
    LOOP
        SELECT string_agg(format('t.%I::text', a.attname), ' || ''/'' || ' ORDER BY k.n)
          INTO keyexpr
          FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_attribute a ON a.attnum = k.attnum
         WHERE i.indrelid = rel AND i.indisprimary AND a.attrelid = i.indrelid;
        RETURN QUERY EXECUTE format('SELECT %L::text, %s, to_jsonb(t) FROM %s t',
                                    rel::text, coalesce(keyexpr, 't::text'), rel);
    END LOOP;
END
$f$;
SQL
)
# sql_out DB LABEL: like run_sql, but prints the output (query results).
sql_out() {
    local db="$1" label="$2" out
    out="$_T_TMPDIR/sql.out"
    if { echo "$PRELUDE_SQL"; cat; } | "${PSQL[@]}" -At -d "$db" >"$out" 2>&1; then
        cat "$out"
        return 0
    fi
    echo "---- $label: psql failed; output (last 40 lines):" >&2
    tail -n 40 "$out" | cut -c1-300 | sed 's/^/    /' >&2
    return 1
}

run_sql() {
    local db="$1" label="$2" out
    out="$_T_TMPDIR/sql.out"
    if { echo "$PRELUDE_SQL"; cat; } | "${PSQL[@]}" -At -d "$db" >"$out" 2>&1; then
        return 0
    fi
    echo "---- $label: psql failed; output (last 40 lines):"
    tail -n 40 "$out" | cut -c1-300 | sed 's/^/    /'
    return 1
}

# check_invariants DB LABEL: invoicing.check_invariants() must return no rows.
check_invariants() {
    local db="$1" label="$2" rows
    if ! rows="$(q "$db" "SELECT * FROM invoicing.check_invariants()" 2>&1)"; then
        fail "$label: check_invariants() failed to run"; note "$rows"; return 1
    fi
    if [[ -n "$rows" ]]; then
        fail "$label: check_invariants() is not empty"
        printf '%s\n' "$rows" | sed 's/^/      /'
        return 1
    fi
    ok "$label: check_invariants() is empty"
}

# compare_files LABEL FILE-A FILE-B: identical, or print a diff and fail.
compare_files() {
    local label="$1" a="$2" b="$3"
    if diff -u "$a" "$b" >"$_T_TMPDIR/diff.out" 2>&1; then
        ok "$label"
        return 0
    fi
    fail "$label: they differ (diff -u $(basename "$a") $(basename "$b"), first 200 lines):"
    head -n 200 "$_T_TMPDIR/diff.out" | sed 's/^/      /'
    return 1
}

# ext_tables DB: the extension's tables (schema-qualified), one a line.
ext_tables() {
    q "$1" "SELECT c.oid::regclass::text FROM pg_depend d
              JOIN pg_class c ON c.oid = d.objid
             WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e'
               AND d.refclassid = 'pg_extension'::regclass
               AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = '$EXT')
               AND c.relkind IN ('r', 'p')
             ORDER BY 1"
}

# ext_sequences DB: the extension's sequences, one a line.
ext_sequences() {
    q "$1" "SELECT c.oid::regclass::text FROM pg_depend d
              JOIN pg_class c ON c.oid = d.objid
             WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e'
               AND d.refclassid = 'pg_extension'::regclass
               AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = '$EXT')
               AND c.relkind = 'S'
             ORDER BY 1"
}

# order_by DB TABLE: the table's primary-key columns, comma-separated
# (all columns when it has none).
order_by() {
    q "$1" "SELECT coalesce(
              (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.n)
                 FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
                 JOIN pg_attribute a ON a.attnum = k.attnum
                WHERE i.indrelid = '$2'::regclass AND i.indisprimary
                  AND a.attrelid = i.indrelid),
              (SELECT string_agg(n::text, ', ') FROM generate_series(1,
                 (SELECT count(*) FROM pg_attribute WHERE attrelid = '$2'::regclass
                     AND attnum > 0 AND NOT attisdropped)::int) n))"
}

# ---------------------------------------------------------------------------
# Fixtures.  fixture_sql TAG prints SQL that creates, under ids carrying TAG,
# one customer set with invoices in every status, payments of both kinds,
# balance transactions and, when the database's version has credit notes,
# credit notes of every kind.  It checks what it builds (expect) and renders
# every object through the JSON functions.  It uses only functions that the
# database's version has (pg_temp.has_function), so it runs at any version.
#
# fixture_continue_sql TAG prints SQL that keeps working on the objects of an
# earlier fixture_sql TAG: new payments (PaymentIntent and out of band) on the
# old open and uncollectible invoices, an old open payment succeeding, an old
# draft finalized, and (when the version has them) credit notes on the old
# invoices: pre-payment, refunds out of old PaymentIntent payments, credits,
# and a void.  It can be run any number of times.
# ---------------------------------------------------------------------------
fixture_sql() {
    local t="$1"
    cat <<SQL
-- customers and balance transactions
SELECT invoicing.create_customer('${t}@example.com', 'Customer ${t}', 'cus_${t}');
SELECT invoicing.create_customer('${t}b@example.com', 'Customer ${t} b', 'cus_${t}_b');
SELECT invoicing.create_customer(NULL, NULL, 'cus_${t}_c');
SELECT invoicing.adjust_customer_balance('cus_${t}', 'usd', -300, 'goodwill credit');
SELECT invoicing.adjust_customer_balance('cus_${t}_b', 'eur', 250, 'owed from before');
SELECT invoicing.adjust_customer_balance('cus_${t}_c', 'usd', -1000, 'prepaid');

-- draft (stays a draft) and draft (finalized by fixture_continue_sql)
SELECT invoicing.create_invoice('cus_${t}', 'usd', id => 'in_${t}_draft');
SELECT invoicing.add_invoice_line('in_${t}_draft', 1500, 2, 'widgets');
SELECT invoicing.create_invoice('cus_${t}', 'usd', 'charge_automatically', 'in_${t}_later');
SELECT invoicing.add_invoice_line('in_${t}_later', 4000);

-- open: the -300 credit applied at finalization; a succeeded payment, an
-- open one, a canceled one and an out-of-band one
SELECT invoicing.create_invoice('cus_${t}', 'usd', id => 'in_${t}_open');
SELECT invoicing.add_invoice_line('in_${t}_open', 6000, 1, 'plan');
SELECT invoicing.add_invoice_line('in_${t}_open', 1500, 3, 'seats');
SELECT invoicing.add_invoice_line('in_${t}_open', -500, 1, 'discount');
SELECT invoicing.finalize_invoice('in_${t}_open');
SELECT invoicing.create_payment_intent('cus_${t}', 'usd', 2000, 'succeeded', 'pi_${t}_open_a');
SELECT invoicing.attach_payment('in_${t}_open', 'pi_${t}_open_a');
SELECT invoicing.create_payment_intent('cus_${t}', 'usd', 1500, id => 'pi_${t}_open_b');
SELECT invoicing.attach_payment('in_${t}_open', 'pi_${t}_open_b');
SELECT invoicing.update_payment_intent('pi_${t}_open_b', 'processing');
SELECT invoicing.create_payment_intent('cus_${t}', 'usd', 1000, id => 'pi_${t}_open_c');
SELECT invoicing.attach_payment('in_${t}_open', 'pi_${t}_open_c');
SELECT invoicing.update_payment_intent('pi_${t}_open_c', 'canceled');
SELECT invoicing.attach_out_of_band_payment('in_${t}_open', 500, 'cheque 1');
SELECT pg_temp.expect(status = 'open' AND total = 10000 AND starting_balance = -300
                      AND amount_due = 9700 AND amount_paid = 2500 AND amount_remaining = 7200,
                      'in_${t}_open: open, partially paid')
  FROM invoicing.invoices WHERE id = 'in_${t}_open';

-- paid through a PaymentIntent (partial amount_received then the rest)
SELECT invoicing.create_invoice('cus_${t}', 'usd', id => 'in_${t}_paid');
SELECT invoicing.add_invoice_line('in_${t}_paid', 5000);
SELECT invoicing.finalize_invoice('in_${t}_paid');
SELECT invoicing.create_payment_intent('cus_${t}', 'usd', 5000, id => 'pi_${t}_paid');
SELECT invoicing.attach_payment('in_${t}_paid', 'pi_${t}_paid');
SELECT invoicing.update_payment_intent('pi_${t}_paid', 'succeeded');
SELECT pg_temp.expect(status = 'paid' AND amount_paid = 5000 AND paid_at IS NOT NULL,
                      'in_${t}_paid: paid') FROM invoicing.invoices WHERE id = 'in_${t}_paid';

-- paid with pay_invoice (a payment_record payment)
SELECT invoicing.create_invoice('cus_${t}', 'usd', id => 'in_${t}_payinv');
SELECT invoicing.add_invoice_line('in_${t}_payinv', 2500);
SELECT invoicing.finalize_invoice('in_${t}_payinv');
SELECT invoicing.pay_invoice('in_${t}_payinv');
SELECT pg_temp.expect(status = 'paid', 'in_${t}_payinv: paid') FROM invoicing.invoices
 WHERE id = 'in_${t}_payinv';

-- overpaid: two open payments that each fit, together 1000 too much
SELECT invoicing.create_invoice('cus_${t}_b', 'usd', id => 'in_${t}_over');
SELECT invoicing.add_invoice_line('in_${t}_over', 3000);
SELECT invoicing.finalize_invoice('in_${t}_over');
SELECT invoicing.create_payment_intent('cus_${t}_b', 'usd', 2000, id => 'pi_${t}_over_a');
SELECT invoicing.create_payment_intent('cus_${t}_b', 'usd', 2000, id => 'pi_${t}_over_b');
SELECT invoicing.attach_payment('in_${t}_over', 'pi_${t}_over_a');
SELECT invoicing.attach_payment('in_${t}_over', 'pi_${t}_over_b');
SELECT invoicing.update_payment_intent('pi_${t}_over_a', 'succeeded');
SELECT invoicing.update_payment_intent('pi_${t}_over_b', 'succeeded', 2000);
SELECT pg_temp.expect(status = 'paid' AND amount_overpaid = 1000, 'in_${t}_over: overpaid')
  FROM invoicing.invoices WHERE id = 'in_${t}_over';
SELECT pg_temp.expect(count(*) = 1, 'in_${t}_over: an invoice_overpaid transaction')
  FROM invoicing.customer_balance_transactions
 WHERE invoice = 'in_${t}_over' AND type = 'invoice_overpaid';

-- uncollectible, after a partial out-of-band payment
SELECT invoicing.create_invoice('cus_${t}', 'usd', id => 'in_${t}_unc');
SELECT invoicing.add_invoice_line('in_${t}_unc', 7000);
SELECT invoicing.finalize_invoice('in_${t}_unc');
SELECT invoicing.attach_out_of_band_payment('in_${t}_unc', 1000);
SELECT invoicing.mark_uncollectible('in_${t}_unc');

-- void, with the customer's debit applied at finalization and given back
SELECT invoicing.create_invoice('cus_${t}_b', 'eur', id => 'in_${t}_void');
SELECT invoicing.add_invoice_line('in_${t}_void', 1000);
SELECT invoicing.finalize_invoice('in_${t}_void');
SELECT invoicing.void_invoice('in_${t}_void');
SELECT pg_temp.expect(array_agg(type::text ORDER BY seq) = '{applied_to_invoice,unapplied_from_invoice}',
                      'in_${t}_void: balance applied then given back')
  FROM invoicing.customer_balance_transactions WHERE invoice = 'in_${t}_void';

-- paid at finalization out of the customer's credit
SELECT invoicing.create_invoice('cus_${t}_c', 'usd', id => 'in_${t}_credit');
SELECT invoicing.add_invoice_line('in_${t}_credit', 800);
SELECT invoicing.finalize_invoice('in_${t}_credit');
SELECT pg_temp.expect(status = 'paid' AND amount_due = 0 AND ending_balance = -200,
                      'in_${t}_credit: paid at finalization')
  FROM invoicing.invoices WHERE id = 'in_${t}_credit';

-- invoice to be credited with a mixed credit note
SELECT invoicing.create_invoice('cus_${t}', 'usd', id => 'in_${t}_mixed');
SELECT invoicing.add_invoice_line('in_${t}_mixed', 4000);
SELECT invoicing.finalize_invoice('in_${t}_mixed');
SELECT invoicing.create_payment_intent('cus_${t}', 'usd', 3000, 'succeeded', 'pi_${t}_mixed');
SELECT invoicing.attach_payment('in_${t}_mixed', 'pi_${t}_mixed');

SELECT pg_temp.expect(array_agg(DISTINCT status::text ORDER BY status::text)
                      = '{draft,open,paid,uncollectible,void}', '${t}: invoices in every status')
  FROM invoicing.invoices WHERE id LIKE 'in\_${t}\_%';
SELECT pg_temp.expect(array_agg(DISTINCT payment_type::text ORDER BY payment_type::text)
                      = '{payment_intent,payment_record}'
                      AND array_agg(DISTINCT status::text ORDER BY status::text) = '{canceled,open,paid}',
                      '${t}: payments of both kinds, open, paid and canceled')
  FROM invoicing.invoice_payments WHERE invoice LIKE 'in\_${t}\_%';

-- credit notes, when this version has them
DO \$cn\$
BEGIN
    IF NOT pg_temp.has_function('create_credit_note') THEN
        RETURN;
    END IF;
    -- pre-payment, on the open invoice
    PERFORM invoicing.create_credit_note('in_${t}_open', 300, reason => 'order_change', memo => 'pre');
    -- post-payment refund out of a PaymentIntent payment
    PERFORM invoicing.create_credit_note('in_${t}_paid', 1000, refund_amount => 1000,
                                         reason => 'product_unsatisfactory');
    -- post-payment credit and out of band, on the pay_invoice one
    PERFORM invoicing.create_credit_note('in_${t}_payinv', 500, credit_amount => 300,
                                         out_of_band_amount => 200, reason => 'duplicate');
    -- mixed: 1000 pre, 500 post refunded
    PERFORM invoicing.create_credit_note('in_${t}_mixed', 1500, refund_amount => 500);
    -- voided
    PERFORM invoicing.void_credit_note(
        (invoicing.create_credit_note('in_${t}_open', 200, memo => 'to void'))->>'id');
    PERFORM pg_temp.expect(array_agg(DISTINCT type::text ORDER BY type::text)
                           = '{mixed,post_payment,pre_payment}'
                           AND array_agg(DISTINCT status::text ORDER BY status::text) = '{issued,void}',
                           '${t}: credit notes of every type, issued and void')
      FROM invoicing.credit_notes WHERE invoice LIKE 'in\_${t}\_%';
    PERFORM pg_temp.expect(count(*) >= 2, '${t}: refunds written')
      FROM invoicing.refunds r JOIN invoicing.credit_notes c ON c.id = r.credit_note
     WHERE c.invoice LIKE 'in\_${t}\_%';
    PERFORM pg_temp.expect(count(*) = 1, '${t}: a credit_note balance transaction')
      FROM invoicing.customer_balance_transactions
     WHERE customer = 'cus_${t}' AND type = 'credit_note';
    -- preview writes nothing
    PERFORM invoicing.preview_credit_note('in_${t}_open', 100);
END
\$cn\$;

-- every object renders through the JSON functions, with the table's values
SELECT pg_temp.expect(j->>'object' = 'invoice' AND j->>'id' = i.id
                      AND (j->>'amount_remaining')::bigint = i.amount_remaining
                      AND (j->>'amount_paid')::bigint = i.amount_paid
                      AND j->>'status' = i.status::text,
                      'invoice_json(' || i.id || ')')
  FROM invoicing.invoices i, invoicing.invoice_json(i.id) j WHERE i.id LIKE 'in\_${t}\_%';
SELECT pg_temp.expect(jsonb_array_length(j->'payments'->'data')
                      = (SELECT count(*) FROM invoicing.invoice_payments p WHERE p.invoice = 'in_${t}_open'),
                      'invoice_json(in_${t}_open, {payments})')
  FROM invoicing.invoice_json('in_${t}_open', '{payments}') j;
SELECT pg_temp.expect(j->>'object' = 'invoice_payment' AND j->>'status' = p.status::text,
                      'invoice_payment_json(' || p.id || ')')
  FROM invoicing.invoice_payments p, invoicing.invoice_payment_json(p.id) j
 WHERE p.invoice LIKE 'in\_${t}\_%';
SELECT pg_temp.expect(j->>'object' = 'payment_intent' AND j->>'status' = p.status::text,
                      'payment_intent_json(' || p.id || ')')
  FROM invoicing.payment_intents p, invoicing.payment_intent_json(p.id) j
 WHERE p.id LIKE 'pi\_${t}\_%';
SELECT pg_temp.expect(j->>'object' = 'customer_balance_transaction'
                      AND (j->>'ending_balance')::bigint = t.ending_balance,
                      'customer_balance_transaction_json(' || t.id || ')')
  FROM invoicing.customer_balance_transactions t, invoicing.customer_balance_transaction_json(t.id) j
 WHERE t.customer LIKE 'cus\_${t}%';
DO \$j\$
BEGIN
    IF pg_temp.has_function('credit_note_json') THEN
        PERFORM pg_temp.expect(j->>'object' = 'credit_note' AND j->>'number' = c.number,
                               'credit_note_json(' || c.id || ')')
          FROM invoicing.credit_notes c, invoicing.credit_note_json(c.id) j
         WHERE c.invoice LIKE 'in\_${t}\_%';
    END IF;
END
\$j\$;
SQL
}

fixture_continue_sql() {
    local t="$1" n="$2"     # n: makes the new ids of this run unique
    cat <<SQL
-- an old open payment succeeds
SELECT invoicing.update_payment_intent('pi_${t}_open_b', 'succeeded')
  FROM invoicing.payment_intents WHERE id = 'pi_${t}_open_b' AND status <> 'succeeded';
-- new PaymentIntent and out-of-band payments on the old open invoice
SELECT invoicing.create_payment_intent('cus_${t}', 'usd', 100, id => 'pi_${t}_more_${n}');
SELECT invoicing.attach_payment('in_${t}_open', 'pi_${t}_more_${n}');
SELECT invoicing.update_payment_intent('pi_${t}_more_${n}', 'succeeded');
SELECT invoicing.attach_out_of_band_payment('in_${t}_open', 100, 'more ${n}');
-- the old uncollectible invoice still takes payments
SELECT invoicing.attach_out_of_band_payment('in_${t}_unc', 100);
-- old drafts: one gets a line, the other is finalized (once)
SELECT invoicing.add_invoice_line('in_${t}_draft', 10, 1, 'more ${n}');
SELECT invoicing.finalize_invoice('in_${t}_later')
  FROM invoicing.invoices WHERE id = 'in_${t}_later' AND status = 'draft';
SELECT pg_temp.expect(status = 'open' AND number IS NOT NULL, 'in_${t}_later: finalized')
  FROM invoicing.invoices WHERE id = 'in_${t}_later';
DO \$cn\$
DECLARE
    before_refunded bigint;
BEGIN
    IF NOT pg_temp.has_function('create_credit_note') THEN
        RETURN;
    END IF;
    -- pre-payment on the old open invoice, and one voided again
    PERFORM invoicing.create_credit_note('in_${t}_open', 100, memo => 'more ${n}');
    PERFORM invoicing.void_credit_note(
        (invoicing.create_credit_note('in_${t}_open', 50, memo => 'void ${n}'))->>'id');
    -- a refund out of the old PaymentIntent payment of the paid invoice
    SELECT amount_refunded INTO before_refunded FROM invoicing.invoice_payments
     WHERE payment_intent = 'pi_${t}_paid';
    PERFORM invoicing.create_credit_note('in_${t}_paid', 100, refund_amount => 100);
    PERFORM pg_temp.expect(amount_refunded = before_refunded + 100,
                           'in_${t}_paid: refund taken from the old payment')
       FROM invoicing.invoice_payments WHERE payment_intent = 'pi_${t}_paid';
    -- credit to the customer out of the old overpaid invoice
    PERFORM invoicing.create_credit_note('in_${t}_over', 100, credit_amount => 100);
    -- pre-payment on the old uncollectible invoice
    PERFORM invoicing.create_credit_note('in_${t}_unc', 100, out_of_band_amount => 0);
END
\$cn\$;
SELECT pg_temp.expect(count(*) = 0, 'no duplicate invoice numbers')
  FROM (SELECT number FROM invoicing.invoices WHERE number IS NOT NULL
         GROUP BY number HAVING count(*) > 1) d;
SQL
}
