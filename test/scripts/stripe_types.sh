#!/usr/bin/env bash
# stripe_types: every JSON object and event invoicing renders type-checks
# against Stripe's own TypeScript types (the stripe npm package pinned to
# 18.2.x = API 2025-05-28.basil), allowing only SPEC 6's payment_record
# exception (test/stripe-types/types.ts says how).
#
# It builds a database with every object kind in every state it can have
# (invoices draft/open/paid/void/uncollectible, paid by credit, overpaid,
# with more than one page of payments; payments of both types, open, paid
# and canceled; PaymentIntents in every status; balance transactions of
# every type; credit notes of every type, with refunds, credit and out of
# band, void, and a preview; and one event or more of every type of SPEC 6),
# renders all of them (invoices also with payments expanded) into a TSV file
# and runs test/stripe-types/check.js on it (tsc, strict).  The keys Stripe
# requires that invoicing does not produce are listed, not failed on.
#
# Run from the repository root with PGHOST/PGPORT/PGUSER set (scripts/test.sh
# does).  Installs Node.js/npm with apt-get when missing and runs `npm ci` in
# test/stripe-types.  Uses its own database ev_stripe_types.  Exit 0 = pass.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=test/lib/node.sh
source "$ROOT/test/lib/node.sh"
CHECK_DIR="$ROOT/test/stripe-types"
DB=ev_stripe_types
WORK="$(mktemp -d /tmp/ev_stripe_types.XXXXXX)"

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    dropdb --if-exists "$DB" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

ensure_node
npm_ci "$CHECK_DIR"

dropdb --if-exists "$DB" >/dev/null 2>&1
createdb "$DB"

q >/dev/null <<'SQL'
CREATE EXTENSION invoicing;
SELECT invoicing.create_customer('a@example.com', 'A', id => 'cus_evt1');
SELECT invoicing.create_customer(id => 'cus_evt2');
SELECT invoicing.create_customer(id => 'cus_evt3');
SELECT invoicing.create_customer(id => 'cus_evt4');
SELECT invoicing.create_customer(id => 'cus_evt5');
SELECT invoicing.create_customer(id => 'cus_evt6');

-- a draft with a description, metadata and a discount line
SELECT invoicing.create_invoice('cus_evt1', 'usd', id => 'in_evt_draft');
SELECT invoicing.add_invoice_line('in_evt_draft', 5000, 2, 'work');
SELECT invoicing.add_invoice_line('in_evt_draft', -1000, 1, 'discount');
UPDATE invoicing.invoices SET description = 'March', metadata = '{"order": "o-1", "team": "billing"}'
 WHERE id = 'in_evt_draft';

-- open, charge_automatically, with metadata
SELECT invoicing.create_invoice('cus_evt1', 'eur', 'charge_automatically', id => 'in_evt_open');
SELECT invoicing.add_invoice_line('in_evt_open', 1999);
UPDATE invoicing.invoices SET metadata = '{"order": "o-2"}' WHERE id = 'in_evt_open';
SELECT invoicing.finalize_invoice('in_evt_open');

-- PaymentIntents in every status (with metadata on one)
SELECT invoicing.create_payment_intent('cus_evt1', 'usd', 100, id => 'pi_evt_rpm');
UPDATE invoicing.payment_intents SET metadata = '{"source": "test"}' WHERE id = 'pi_evt_rpm';
SELECT invoicing.create_payment_intent('cus_evt1', 'usd', 100, 'requires_confirmation', id => 'pi_evt_rc');
SELECT invoicing.create_payment_intent('cus_evt1', 'usd', 100, 'requires_action', id => 'pi_evt_ra');
SELECT invoicing.create_payment_intent('cus_evt1', 'usd', 100, 'processing', id => 'pi_evt_proc');
SELECT invoicing.create_payment_intent('cus_evt1', 'usd', 100, 'requires_capture', id => 'pi_evt_cap');
SELECT invoicing.create_payment_intent('cus_evt1', 'usd', 100, 'canceled', id => 'pi_evt_can');
SELECT invoicing.create_payment_intent('cus_evt1', 'usd', 100, 'succeeded', id => 'pi_evt_ok');

-- partly paid, with payments of both types: a PaymentIntent paid, one open,
-- one canceled, one paid for less than requested, and out of band
SELECT invoicing.create_invoice('cus_evt1', 'usd', id => 'in_evt_mixed');
SELECT invoicing.add_invoice_line('in_evt_mixed', 10000);
SELECT invoicing.finalize_invoice('in_evt_mixed');
SELECT invoicing.create_payment_intent('cus_evt1', 'usd', 2000, id => 'pi_evt_m1');
SELECT invoicing.create_payment_intent('cus_evt1', 'usd', 1000, id => 'pi_evt_m2');
SELECT invoicing.create_payment_intent('cus_evt1', 'usd', 1500, id => 'pi_evt_m3');
SELECT invoicing.create_payment_intent('cus_evt1', 'usd', 1200, id => 'pi_evt_m4');
SELECT invoicing.attach_payment('in_evt_mixed', 'pi_evt_m1');
SELECT invoicing.attach_payment('in_evt_mixed', 'pi_evt_m2');
SELECT invoicing.attach_payment('in_evt_mixed', 'pi_evt_m3');
SELECT invoicing.attach_payment('in_evt_mixed', 'pi_evt_m4');
SELECT invoicing.update_payment_intent('pi_evt_m1', 'succeeded');
SELECT invoicing.update_payment_intent('pi_evt_m3', 'canceled');
SELECT invoicing.update_payment_intent('pi_evt_m4', 'succeeded', 900);
SELECT invoicing.attach_out_of_band_payment('in_evt_mixed', 500, 'wire 42');

-- paid in full by a PaymentIntent, then a refund, a credit and out of band
-- in post-payment credit notes, and a mixed one
SELECT invoicing.create_invoice('cus_evt2', 'usd', id => 'in_evt_paid');
SELECT invoicing.add_invoice_line('in_evt_paid', 8000);
SELECT invoicing.finalize_invoice('in_evt_paid');
SELECT invoicing.create_payment_intent('cus_evt2', 'usd', 8000, id => 'pi_evt_p1');
SELECT invoicing.attach_payment('in_evt_paid', 'pi_evt_p1');
SELECT invoicing.update_payment_intent('pi_evt_p1', 'succeeded');
SELECT invoicing.create_credit_note('in_evt_paid', 1000, refund_amount => 1000, reason => 'product_unsatisfactory', memo => 'broken');
SELECT invoicing.create_credit_note('in_evt_paid', 700, credit_amount => 700, reason => 'duplicate');
SELECT invoicing.create_credit_note('in_evt_paid', 300, out_of_band_amount => 300);
SELECT invoicing.create_credit_note('in_evt_paid', 600, refund_amount => 200, credit_amount => 200, out_of_band_amount => 200, reason => 'fraudulent');

-- open: a pre-payment credit note, a mixed one after a partial payment, a
-- voided one
SELECT invoicing.create_invoice('cus_evt4', 'usd', id => 'in_evt_cn');
SELECT invoicing.add_invoice_line('in_evt_cn', 5000);
SELECT invoicing.finalize_invoice('in_evt_cn');
SELECT invoicing.create_credit_note('in_evt_cn', 500, reason => 'order_change');
SELECT invoicing.void_credit_note(invoicing.create_credit_note('in_evt_cn', 400)->>'id');
SELECT invoicing.attach_out_of_band_payment('in_evt_cn', 4000);
SELECT invoicing.create_credit_note('in_evt_cn', 800, out_of_band_amount => 300);

-- overpaid (two PaymentIntents for one remainder) -> invoice_overpaid
SELECT invoicing.create_invoice('cus_evt5', 'usd', id => 'in_evt_over');
SELECT invoicing.add_invoice_line('in_evt_over', 3000);
SELECT invoicing.finalize_invoice('in_evt_over');
SELECT invoicing.create_payment_intent('cus_evt5', 'usd', 2000, id => 'pi_evt_o1');
SELECT invoicing.create_payment_intent('cus_evt5', 'usd', 2000, id => 'pi_evt_o2');
SELECT invoicing.attach_payment('in_evt_over', 'pi_evt_o1');
SELECT invoicing.attach_payment('in_evt_over', 'pi_evt_o2');
SELECT invoicing.update_payment_intent('pi_evt_o1', 'succeeded');
SELECT invoicing.update_payment_intent('pi_evt_o2', 'succeeded');

-- customer credit: an adjustment, an invoice paid by it at finalization
-- (applied_to_invoice), one partly covered and voided (unapplied_from_invoice)
SELECT invoicing.adjust_customer_balance('cus_evt3', 'usd', -5000, 'goodwill');
SELECT invoicing.create_invoice('cus_evt3', 'usd', id => 'in_evt_credit');
SELECT invoicing.add_invoice_line('in_evt_credit', 2000);
SELECT invoicing.finalize_invoice('in_evt_credit');
SELECT invoicing.create_invoice('cus_evt3', 'usd', id => 'in_evt_void');
SELECT invoicing.add_invoice_line('in_evt_void', 4000);
SELECT invoicing.finalize_invoice('in_evt_void');
SELECT invoicing.void_invoice('in_evt_void');
-- a positive balance (the customer owes): an adjustment the other way
SELECT invoicing.adjust_customer_balance('cus_evt1', 'usd', 250);

-- uncollectible, then paid out of band (pay_invoice)
SELECT invoicing.create_invoice('cus_evt1', 'jpy', id => 'in_evt_unc');
SELECT invoicing.add_invoice_line('in_evt_unc', 1200);
SELECT invoicing.finalize_invoice('in_evt_unc');
SELECT invoicing.mark_uncollectible('in_evt_unc');
SELECT invoicing.create_invoice('cus_evt1', 'jpy', id => 'in_evt_unc_paid');
SELECT invoicing.add_invoice_line('in_evt_unc_paid', 1200);
SELECT invoicing.finalize_invoice('in_evt_unc_paid');
SELECT invoicing.mark_uncollectible('in_evt_unc_paid');
SELECT invoicing.pay_invoice('in_evt_unc_paid');

-- more payments than one page (has_more)
SELECT invoicing.create_invoice('cus_evt6', 'usd', id => 'in_evt_many');
SELECT invoicing.add_invoice_line('in_evt_many', 2000);
SELECT invoicing.finalize_invoice('in_evt_many');
SELECT invoicing.attach_out_of_band_payment('in_evt_many', 100) FROM generate_series(1, 12);
SQL

# metadata that is not Stripe's (string values only): a writer may store any
# jsonb; invoicing must either refuse it or render Stripe-typed metadata.
# Each write that is accepted puts its object (and its events) under check.
q >/dev/null <<'SQL'
SELECT invoicing.create_invoice('cus_evt1', 'usd', id => 'in_evt_meta_num');
SELECT invoicing.add_invoice_line('in_evt_meta_num', 100);
SELECT invoicing.finalize_invoice('in_evt_meta_num');
SELECT invoicing.create_invoice('cus_evt1', 'usd', id => 'in_evt_meta_array');
SELECT invoicing.add_invoice_line('in_evt_meta_array', 100);
SELECT invoicing.finalize_invoice('in_evt_meta_array');
SELECT invoicing.create_payment_intent('cus_evt1', 'usd', 100, id => 'pi_evt_meta_num');
SQL
for write in \
    "UPDATE invoicing.invoices SET metadata = '{\"count\": 1, \"nested\": {\"a\": true}}' WHERE id = 'in_evt_meta_num'" \
    "UPDATE invoicing.invoices SET metadata = '[\"a\", \"b\"]' WHERE id = 'in_evt_meta_array'" \
    "UPDATE invoicing.payment_intents SET metadata = '{\"count\": 1}' WHERE id = 'pi_evt_meta_num'"; do
    if q -c "$write" >/dev/null 2>"$WORK/meta.err"; then
        echo "accepted (its rendering is checked): $write"
    else
        echo "refused: $write: $(head -n 1 "$WORK/meta.err")"
    fi
done

# every kind and state the check needs is there
coverage="$(q <<'SQL'
SELECT 'invoice statuses: ' || string_agg(DISTINCT status::text, ' ' ORDER BY status::text) FROM invoicing.invoices;
SELECT 'payment types: ' || string_agg(DISTINCT payment_type::text, ' ' ORDER BY payment_type::text) FROM invoicing.invoice_payments;
SELECT 'payment statuses: ' || string_agg(DISTINCT status::text, ' ' ORDER BY status::text) FROM invoicing.invoice_payments;
SELECT 'payment_intent statuses: ' || count(DISTINCT status) FROM invoicing.payment_intents;
SELECT 'balance transaction types: ' || string_agg(DISTINCT type::text, ' ' ORDER BY type::text) FROM invoicing.customer_balance_transactions;
SELECT 'credit note types: ' || string_agg(DISTINCT type::text, ' ' ORDER BY type::text) FROM invoicing.credit_notes;
SELECT 'credit note statuses: ' || string_agg(DISTINCT status::text, ' ' ORDER BY status::text) FROM invoicing.credit_notes;
SELECT 'event types: ' || string_agg(DISTINCT type, ' ' ORDER BY type) FROM invoicing.events;
SQL
)"
echo "$coverage"
expected_coverage='invoice statuses: draft open paid uncollectible void
payment types: payment_intent payment_record
payment statuses: canceled open paid
payment_intent statuses: 7
balance transaction types: adjustment applied_to_invoice credit_note invoice_overpaid unapplied_from_invoice
credit note types: mixed post_payment pre_payment
credit note statuses: issued void
event types: credit_note.created credit_note.voided invoice.finalized invoice.marked_uncollectible invoice.overpaid invoice.paid invoice.payment_succeeded invoice.updated invoice.voided invoice_payment.paid'
if [[ "$coverage" != "$expected_coverage" ]]; then
    echo "FAIL: the fixtures do not cover every kind and state:"
    diff <(echo "$expected_coverage") <(echo "$coverage") || true
    exit 1
fi

# render everything: name <TAB> kind <TAB> json
q -F $'\t' >"$WORK/objects.tsv" <<'SQL'
SELECT 'invoice_' || id, 'invoice', invoicing.invoice_json(id)::text FROM invoicing.invoices
UNION ALL
SELECT 'invoice_expanded_' || id, 'invoice', invoicing.invoice_json(id, '{payments}')::text FROM invoicing.invoices
UNION ALL
SELECT 'invoice_payment_' || payment_type || '_' || status || '_' || id, 'invoice_payment',
       invoicing.invoice_payment_json(id)::text FROM invoicing.invoice_payments
UNION ALL
SELECT 'payment_intent_' || id, 'payment_intent', invoicing.payment_intent_json(id)::text FROM invoicing.payment_intents
UNION ALL
SELECT 'customer_balance_transaction_' || type || '_' || id, 'customer_balance_transaction',
       invoicing.customer_balance_transaction_json(id)::text FROM invoicing.customer_balance_transactions
UNION ALL
SELECT 'credit_note_' || type || '_' || status || '_' || id, 'credit_note', invoicing.credit_note_json(id)::text
  FROM invoicing.credit_notes
UNION ALL
SELECT 'credit_note_preview_' || v.name, 'credit_note', v.j::text
  FROM (VALUES
    ('pre', invoicing.preview_credit_note('in_evt_open', 500)),
    ('refund', invoicing.preview_credit_note('in_evt_over', 500, refund_amount => 500)),
    ('credit', invoicing.preview_credit_note('in_evt_over', 500, credit_amount => 500, reason => 'duplicate', memo => 'm'))
  ) AS v(name, j)
UNION ALL
SELECT 'event_' || lpad(seq::text, 4, '0') || '_' || type, type, payload::text FROM invoicing.events
ORDER BY 1
SQL
echo "rendered $(wc -l <"$WORK/objects.tsv") objects"

rc=0
node "$CHECK_DIR/check.js" "$WORK/objects.tsv" "$WORK/missing-keys.txt" || rc=$?
exit "$rc"
