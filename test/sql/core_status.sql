-- core_status: rule O (attach_out_of_band_payment, pay_invoice) and rule V
-- (void_invoice, mark_uncollectible, deletion), the status changes the
-- functions refuse (55000, also when repeated) and DML that sets a status to
-- its current value (a no-op).  Ids carry "sts".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\i test/sql/include/core_helpers.psql

SELECT invoicing.create_customer(id => 'cus_sts1');
-- in_sts1: open 10000; in_sts2: draft; in_sts3: void
SELECT invoicing.create_invoice('cus_sts1', 'usd', id => 'in_sts1');
SELECT invoicing.add_invoice_line('in_sts1', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_sts1')->>'status' AS status;
SELECT invoicing.create_invoice('cus_sts1', 'usd', id => 'in_sts2');
SELECT invoicing.add_invoice_line('in_sts2', 10000) IS NOT NULL AS added;
SELECT invoicing.create_invoice('cus_sts1', 'usd', id => 'in_sts3');
SELECT invoicing.add_invoice_line('in_sts3', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_sts3')->>'status' AS status;

-- Rule V: void an open invoice without payments.  The amounts stay; voided_at is set.
SELECT j->>'status' AS status, j->'status_transitions'->'voided_at' <> 'null' AS voided_at_set
  FROM invoicing.void_invoice('in_sts3') AS j;
SELECT * FROM inv WHERE id = 'in_sts3';
SELECT voided_at IS NOT NULL AS voided_at_set, paid_at IS NULL AS not_paid
  FROM invoicing.invoices WHERE id = 'in_sts3';
SELECT * FROM invoicing.check_invariants();

-- Rule O: an out-of-band payment is a payment_record payment, paid at once,
-- with amount_requested = amount_paid = amount.
SELECT j->>'status' AS status, j->>'amount_paid' AS amount_paid,
       j->>'amount_remaining' AS amount_remaining,
       jsonb_array_length(j->'payments'->'data') AS payments,
       j->'payments'->'data'->0->'payment'->>'type' AS payment_type,
       j->'payments'->'data'->0->>'amount_paid' AS payment_amount_paid
  FROM invoicing.attach_out_of_band_payment('in_sts1', 4000, 'wire 1') AS j;
SELECT invoice, payment_type, payment_intent, reference, status, amount_requested, amount_paid,
       paid_at_set, canceled_at_set FROM pay WHERE invoice = 'in_sts1';
SELECT payment_record LIKE 'prec\_%' AS prec_id, currency, is_default
  FROM invoicing.invoice_payments WHERE invoice = 'in_sts1';
SELECT * FROM inv WHERE id = 'in_sts1';
SELECT * FROM invoicing.check_invariants();

-- 22023: amount 0, negative, above amount_remaining (6000).  55000: the
-- invoice is a draft, void or paid.  Nothing changes.
SELECT pg_temp.fp('sts') AS fp \gset
SELECT invoicing.attach_out_of_band_payment('in_sts1', 0);
SELECT invoicing.attach_out_of_band_payment('in_sts1', -5);
SELECT invoicing.attach_out_of_band_payment('in_sts1', 6001);
SELECT invoicing.attach_out_of_band_payment('in_sts2', 100);
SELECT invoicing.attach_out_of_band_payment('in_sts3', 100);
SELECT invoicing.attach_out_of_band_payment('in_sts_missing', 100);
SELECT pg_temp.fp('sts') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id IN ('in_sts1', 'in_sts2', 'in_sts3') ORDER BY id;
SELECT invoice, count(*) AS payments FROM invoicing.invoice_payments
 WHERE invoice LIKE 'in\_sts%' GROUP BY invoice ORDER BY invoice;

-- Rule V: an invoice with a paid payment cannot be voided (55000).
SELECT pg_temp.fp('sts') AS fp \gset
SELECT invoicing.void_invoice('in_sts1');
UPDATE invoicing.invoices SET status = 'void' WHERE id = 'in_sts1';
SELECT pg_temp.fp('sts') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_sts1';

-- exactly the amount remaining pays the invoice
SELECT j->>'status' AS status, j->>'amount_paid' AS amount_paid,
       jsonb_array_length(j->'payments'->'data') AS payments
  FROM invoicing.attach_out_of_band_payment('in_sts1', 6000) AS j;
SELECT payment_type, reference, status, amount_requested, amount_paid FROM pay
 WHERE invoice = 'in_sts1' ORDER BY amount_paid;
SELECT * FROM inv WHERE id = 'in_sts1';
SELECT paid_at IS NOT NULL AS paid_at_set FROM invoicing.invoices WHERE id = 'in_sts1';
-- a paid invoice takes no more out-of-band payment, cannot be paid again,
-- voided or marked uncollectible (55000)
SELECT pg_temp.fp('sts') AS fp \gset
SELECT invoicing.attach_out_of_band_payment('in_sts1', 1);
SELECT invoicing.pay_invoice('in_sts1');
SELECT invoicing.void_invoice('in_sts1');
SELECT invoicing.mark_uncollectible('in_sts1');
SELECT pg_temp.fp('sts') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_sts1';
SELECT * FROM invoicing.check_invariants();

-- pay_invoice after a partial PaymentIntent payment: the remaining 6000 is
-- paid out of band; 10000/10000/0/0/paid.
SELECT invoicing.create_invoice('cus_sts1', 'usd', id => 'in_sts4');
SELECT invoicing.add_invoice_line('in_sts4', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_sts4')->>'status' AS status;
SELECT invoicing.create_payment_intent('cus_sts1', 'usd', 4000, 'succeeded', 'pi_sts4');
SELECT invoicing.attach_payment('in_sts4', 'pi_sts4') IS NOT NULL AS attached;
SELECT * FROM inv WHERE id = 'in_sts4';
SELECT j->>'status' AS status, j->>'amount_paid' AS amount_paid,
       jsonb_array_length(j->'payments'->'data') AS payments,
       j->'payments'->'data'->0->'payment'->>'type' AS newest_type,
       j->'payments'->'data'->0->>'amount_paid' AS newest_amount_paid
  FROM invoicing.pay_invoice('in_sts4') AS j;
SELECT payment_type, payment_intent, status, amount_requested, amount_paid FROM pay
 WHERE invoice = 'in_sts4' ORDER BY payment_type, amount_paid;
SELECT * FROM inv WHERE id = 'in_sts4';
SELECT paid_at IS NOT NULL AS paid_at_set FROM invoicing.invoices WHERE id = 'in_sts4';
-- pay_invoice on a draft or a void invoice: 55000
SELECT pg_temp.fp('sts') AS fp \gset
SELECT invoicing.pay_invoice('in_sts2');
SELECT invoicing.pay_invoice('in_sts3');
SELECT invoicing.pay_invoice('in_sts4');
SELECT invoicing.pay_invoice('in_sts_missing');
SELECT pg_temp.fp('sts') = :'fp' AS unchanged;
SELECT * FROM invoicing.check_invariants();

-- pay_invoice while a PaymentIntent payment is open: when that one succeeds
-- too the invoice is overpaid (amount_overpaid, invoice_overpaid credit).
SELECT invoicing.create_invoice('cus_sts1', 'usd', id => 'in_sts5');
SELECT invoicing.add_invoice_line('in_sts5', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_sts5')->>'status' AS status;
SELECT invoicing.create_payment_intent('cus_sts1', 'usd', 4000, id => 'pi_sts5');
SELECT invoicing.attach_payment('in_sts5', 'pi_sts5') IS NOT NULL AS attached;
SELECT (invoicing.pay_invoice('in_sts5'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_sts5';
SELECT (invoicing.update_payment_intent('pi_sts5', 'succeeded'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_sts5';
SELECT payment_type, payment_intent, status, amount_requested, amount_paid FROM pay
 WHERE invoice = 'in_sts5' ORDER BY payment_type, amount_paid;
SELECT type, amount, ending_balance, invoice FROM txn WHERE customer = 'cus_sts1' ORDER BY created, amount;
SELECT * FROM invoicing.check_invariants();

-- Rule V with an open payment (research S3): mark_uncollectible and
-- void_invoice are 55000; a declined PaymentIntent leaves the payment open;
-- once it is canceled the invoice can be marked uncollectible.  (cus_sts1
-- holds the 4000 credit from in_sts5's overpayment, so in_sts6 starts at
-- -4000: amount_due 6000.)
SELECT invoicing.create_invoice('cus_sts1', 'usd', id => 'in_sts6');
SELECT invoicing.add_invoice_line('in_sts6', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_sts6')->>'status' AS status;
SELECT invoicing.create_payment_intent('cus_sts1', 'usd', 4000, 'processing', 'pi_sts6');
SELECT invoicing.attach_payment('in_sts6', 'pi_sts6') IS NOT NULL AS attached;
SELECT pg_temp.fp('sts') AS fp \gset
SELECT invoicing.mark_uncollectible('in_sts6');
SELECT invoicing.void_invoice('in_sts6');
UPDATE invoicing.invoices SET status = 'uncollectible' WHERE id = 'in_sts6';
UPDATE invoicing.invoices SET status = 'void' WHERE id = 'in_sts6';
SELECT pg_temp.fp('sts') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_sts6';
SELECT (invoicing.update_payment_intent('pi_sts6', 'requires_payment_method'))->>'status' AS status;
SELECT payment_intent, status FROM pay WHERE invoice = 'in_sts6';
SELECT * FROM inv WHERE id = 'in_sts6';
SELECT (invoicing.update_payment_intent('pi_sts6', 'canceled'))->>'status' AS status;
SELECT payment_intent, status, canceled_at_set FROM pay WHERE invoice = 'in_sts6';
SELECT * FROM inv WHERE id = 'in_sts6';
SELECT j->>'status' AS status,
       j->'status_transitions'->'marked_uncollectible_at' <> 'null' AS marked_at_set
  FROM invoicing.mark_uncollectible('in_sts6') AS j;
SELECT * FROM inv WHERE id = 'in_sts6';
SELECT marked_uncollectible_at IS NOT NULL AS marked_at_set FROM invoicing.invoices WHERE id = 'in_sts6';
-- functions refuse a repeated status change (55000); DML setting the same
-- status changes nothing
SELECT pg_temp.fp('sts') AS fp \gset
SELECT invoicing.mark_uncollectible('in_sts6');
SELECT pg_temp.fp('sts') = :'fp' AS unchanged;
UPDATE invoicing.invoices SET status = 'uncollectible' WHERE id = 'in_sts6';
SELECT pg_temp.fp('sts') = :'fp' AS unchanged;
-- uncollectible cannot go back to open or to draft (55000)
UPDATE invoicing.invoices SET status = 'open' WHERE id = 'in_sts6';
UPDATE invoicing.invoices SET status = 'draft' WHERE id = 'in_sts6';
SELECT pg_temp.fp('sts') = :'fp' AS unchanged;
-- an uncollectible invoice takes out-of-band payments and pay_invoice
SELECT (invoicing.attach_out_of_band_payment('in_sts6', 1000, 'cheque 7'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_sts6';
SELECT (invoicing.pay_invoice('in_sts6'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_sts6';
SELECT payment_type, payment_intent, reference, status, amount_requested, amount_paid FROM pay
 WHERE invoice = 'in_sts6' ORDER BY payment_type, amount_requested;
SELECT * FROM invoicing.check_invariants();

-- mark_uncollectible with paid payments but none open is allowed; void of an
-- uncollectible invoice without payments is allowed.
SELECT invoicing.create_invoice('cus_sts1', 'usd', id => 'in_sts7');
SELECT invoicing.add_invoice_line('in_sts7', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_sts7')->>'status' AS status;
SELECT (invoicing.attach_out_of_band_payment('in_sts7', 2500))->>'status' AS status;
SELECT (invoicing.mark_uncollectible('in_sts7'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_sts7';
SELECT pg_temp.fp('sts') AS fp \gset
SELECT invoicing.void_invoice('in_sts7');
SELECT pg_temp.fp('sts') = :'fp' AS unchanged;
SELECT invoicing.create_invoice('cus_sts1', 'usd', id => 'in_sts8');
SELECT invoicing.add_invoice_line('in_sts8', 700) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_sts8')->>'status' AS status;
SELECT (invoicing.mark_uncollectible('in_sts8'))->>'status' AS status;
SELECT (invoicing.void_invoice('in_sts8'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_sts8';
SELECT marked_uncollectible_at IS NOT NULL AS marked_at_set, voided_at IS NOT NULL AS voided_at_set
  FROM invoicing.invoices WHERE id = 'in_sts8';
SELECT * FROM invoicing.check_invariants();

-- Void, repeated or from the wrong status: 55000.  DML setting the same
-- status changes nothing.
SELECT pg_temp.fp('sts') AS fp \gset
SELECT invoicing.void_invoice('in_sts3');
SELECT invoicing.void_invoice('in_sts2');
SELECT invoicing.mark_uncollectible('in_sts2');
SELECT invoicing.mark_uncollectible('in_sts3');
SELECT invoicing.void_invoice('in_sts_missing');
SELECT invoicing.mark_uncollectible('in_sts_missing');
SELECT pg_temp.fp('sts') = :'fp' AS unchanged;
UPDATE invoicing.invoices SET status = 'void' WHERE id = 'in_sts3';
UPDATE invoicing.invoices SET status = 'draft' WHERE id = 'in_sts2';
UPDATE invoicing.invoices SET status = 'paid' WHERE id = 'in_sts1';
SELECT pg_temp.fp('sts') = :'fp' AS unchanged;
-- DML status changes the rules forbid: 55000
UPDATE invoicing.invoices SET status = 'open' WHERE id = 'in_sts3';
UPDATE invoicing.invoices SET status = 'draft' WHERE id = 'in_sts3';
UPDATE invoicing.invoices SET status = 'uncollectible' WHERE id = 'in_sts3';
UPDATE invoicing.invoices SET status = 'open' WHERE id = 'in_sts1';
UPDATE invoicing.invoices SET status = 'draft' WHERE id = 'in_sts1';
UPDATE invoicing.invoices SET status = 'void' WHERE id = 'in_sts1';
UPDATE invoicing.invoices SET status = 'uncollectible' WHERE id = 'in_sts1';
UPDATE invoicing.invoices SET status = 'void' WHERE id = 'in_sts2';
UPDATE invoicing.invoices SET status = 'uncollectible' WHERE id = 'in_sts2';
SELECT pg_temp.fp('sts') = :'fp' AS unchanged;
SELECT id, status FROM inv WHERE id IN ('in_sts1', 'in_sts2', 'in_sts3', 'in_sts5') ORDER BY id;
-- deletion: only a draft (void, paid and uncollectible: 55000)
DELETE FROM invoicing.invoices WHERE id = 'in_sts3';
DELETE FROM invoicing.invoices WHERE id = 'in_sts1';
DELETE FROM invoicing.invoices WHERE id = 'in_sts7';
SELECT pg_temp.fp('sts') = :'fp' AS unchanged;
DELETE FROM invoicing.invoices WHERE id = 'in_sts2';
SELECT id FROM inv WHERE id LIKE 'in\_sts%' ORDER BY id;
SELECT * FROM invoicing.check_invariants();

-- Void gives back the balance applied at finalization.  Credit: -15000
-- applied to 20000 (+15000) comes back as unapplied_from_invoice -15000.
SELECT invoicing.create_customer(id => 'cus_sts2');
SELECT (invoicing.adjust_customer_balance('cus_sts2', 'usd', -15000))->>'amount' AS amount;
SELECT invoicing.create_invoice('cus_sts2', 'usd', id => 'in_sts9');
SELECT invoicing.add_invoice_line('in_sts9', 20000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_sts9')->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_sts9';
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_sts2';
-- DML setting an open invoice open changes nothing (no second finalization)
SELECT pg_temp.fp('sts') AS fp \gset
UPDATE invoicing.invoices SET status = 'open' WHERE id = 'in_sts9';
SELECT pg_temp.fp('sts') = :'fp' AS unchanged;
SELECT (invoicing.void_invoice('in_sts9'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_sts9';
SELECT type, amount, ending_balance, invoice FROM txn WHERE customer = 'cus_sts2' ORDER BY created, amount;
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_sts2';
SELECT * FROM invoicing.check_invariants();
-- Debit: +700 applied (-700) comes back as +700, here voided by DML.
SELECT invoicing.create_customer(id => 'cus_sts3');
SELECT (invoicing.adjust_customer_balance('cus_sts3', 'usd', 700))->>'amount' AS amount;
SELECT invoicing.create_invoice('cus_sts3', 'usd', id => 'in_sts10');
SELECT invoicing.add_invoice_line('in_sts10', 1000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_sts10')->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_sts10';
UPDATE invoicing.invoices SET status = 'void' WHERE id = 'in_sts10';
SELECT * FROM inv WHERE id = 'in_sts10';
SELECT voided_at IS NOT NULL AS voided_at_set FROM invoicing.invoices WHERE id = 'in_sts10';
SELECT type, amount, ending_balance, invoice FROM txn WHERE customer = 'cus_sts3' ORDER BY created, amount;
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_sts3';
-- repeating the void by DML gives nothing back twice
UPDATE invoicing.invoices SET status = 'void' WHERE id = 'in_sts10';
SELECT type, amount, ending_balance, invoice FROM txn WHERE customer = 'cus_sts3' ORDER BY created, amount;
SELECT * FROM invoicing.check_invariants();
-- An invoice paid at finalization by a credit cannot be voided (55000).
SELECT invoicing.create_customer(id => 'cus_sts4');
SELECT (invoicing.adjust_customer_balance('cus_sts4', 'usd', -5000))->>'amount' AS amount;
SELECT invoicing.create_invoice('cus_sts4', 'usd', id => 'in_sts11');
SELECT invoicing.add_invoice_line('in_sts11', 3000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_sts11')->>'status' AS status;
SELECT pg_temp.fp('sts') AS fp \gset
SELECT invoicing.void_invoice('in_sts11');
SELECT pg_temp.fp('sts') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_sts11';
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_sts4';
SELECT * FROM invoicing.check_invariants();
