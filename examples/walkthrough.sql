-- examples/walkthrough.sql: one invoice, paid in two parts by two PaymentIntents.
--
-- Run it in a fresh database (scripts/walkthrough.sh does that for you):
--
--     psql -X -v ON_ERROR_STOP=1 -d walkthrough -f examples/walkthrough.sql
--
-- The ids are fixed so that the output is the same on every run, apart from
-- timestamps, the invoice number and the generated invoice payment ids.
-- The invoice JSON is printed unaligned (\g (format=unaligned tuples_only=on))
-- so that it reads as plain JSON.

\set ON_ERROR_STOP on
\set QUIET on
\pset pager off

\set cus 'cus_walkthrough'
\set inv 'in_walkthrough'
\set pi1 'pi_walkthrough_1'
\set pi2 'pi_walkthrough_2'

\echo
\echo '== 1. Install the extension'
CREATE EXTENSION invoicing;

\echo
\echo '== 2. A customer'
SELECT invoicing.create_customer('jenny.rosen@example.com', 'Jenny Rosen', id => :'cus') AS customer;

\echo
\echo '== 3. A draft invoice of 100.00 usd with two lines: 60.00 consulting, 40.00 support'
SELECT invoicing.create_invoice(:'cus', 'usd', id => :'inv') AS invoice;
SELECT invoicing.add_invoice_line(:'inv', 6000, description => 'Consulting') IS NOT NULL AS line_added;
SELECT invoicing.add_invoice_line(:'inv', 4000, description => 'Support') IS NOT NULL AS line_added;
SELECT description, quantity, unit_amount, amount
  FROM invoicing.invoice_lines WHERE invoice = :'inv' ORDER BY amount DESC;
SELECT jsonb_pretty(invoicing.invoice_json(:'inv', '{payments}')) \g (format=unaligned tuples_only=on)

\echo
\echo '== 4. Finalize it: draft -> open, amount_due 10000'
SELECT invoicing.finalize_invoice(:'inv') \g /dev/null
SELECT jsonb_pretty(invoicing.invoice_json(:'inv', '{payments}')) \g (format=unaligned tuples_only=on)

\echo
\echo '== 5. A PaymentIntent of 30.00 usd, waiting for a payment method'
SELECT invoicing.create_payment_intent(:'cus', 'usd', 3000, 'requires_payment_method', id => :'pi1') AS payment_intent;

\echo
\echo '== 6. Attach it to the invoice: an open invoice payment of 3000, nothing paid yet'
SELECT invoicing.attach_payment(:'inv', :'pi1') \g /dev/null
SELECT jsonb_pretty(invoicing.invoice_json(:'inv', '{payments}')) \g (format=unaligned tuples_only=on)

\echo
\echo '== 7. The processor reports it succeeded: amount_paid 3000, amount_remaining 7000'
SELECT invoicing.update_payment_intent(:'pi1', 'succeeded') \g /dev/null
SELECT jsonb_pretty(invoicing.invoice_json(:'inv', '{payments}')) \g (format=unaligned tuples_only=on)

\echo
\echo '== 8. A second PaymentIntent of 70.00 usd, already processing'
SELECT invoicing.create_payment_intent(:'cus', 'usd', 7000, id => :'pi2') AS payment_intent;
SELECT invoicing.update_payment_intent(:'pi2', 'processing') \g /dev/null
SELECT id, amount, amount_received, status FROM invoicing.payment_intents WHERE id = :'pi2';

\echo
\echo '== 9. Attach it while it is processing: a second open invoice payment'
SELECT invoicing.attach_payment(:'inv', :'pi2') \g /dev/null
SELECT jsonb_pretty(invoicing.invoice_json(:'inv', '{payments}')) \g (format=unaligned tuples_only=on)

\echo
\echo '== 10. It succeeds: amount_remaining reaches 0 and the invoice is paid'
SELECT invoicing.update_payment_intent(:'pi2', 'succeeded') \g /dev/null
SELECT jsonb_pretty(invoicing.invoice_json(:'inv', '{payments}')) \g (format=unaligned tuples_only=on)

\echo
\echo '== 11. Final balances'
SELECT status, total, amount_due, amount_paid, amount_remaining, amount_overpaid
  FROM invoicing.invoices WHERE id = :'inv';
SELECT id, payment_intent, status, amount_requested, amount_paid
  FROM invoicing.invoice_payments WHERE invoice = :'inv' ORDER BY created, payment_intent;

\echo
\echo '== 12. check_invariants(): no rows means every derived value is right'
SELECT * FROM invoicing.check_invariants();
