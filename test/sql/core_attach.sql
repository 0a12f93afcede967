-- core_attach: rule A, attaching a PaymentIntent to an invoice.  Checks in
-- order, the first failure wins: the PaymentIntent and the invoice exist
-- (P0002); already attached to this invoice: nothing changes, the invoice is
-- returned; attached to another invoice (23505); invoice open or
-- uncollectible (55000); PaymentIntent not canceled (55000); same currency
-- and customer (22023); amount <= amount_remaining (22023).  A succeeded
-- PaymentIntent is credited at once.  Ids carry "att".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\i test/sql/include/core_helpers.psql

SELECT invoicing.create_customer(id => 'cus_att1');
SELECT invoicing.create_customer(id => 'cus_att2');
-- in_att1 and in_att2: open, 10000 each
SELECT invoicing.create_invoice('cus_att1', 'usd', id => 'in_att1');
SELECT invoicing.add_invoice_line('in_att1', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_att1')->>'status' AS status;
SELECT invoicing.create_invoice('cus_att1', 'usd', id => 'in_att2');
SELECT invoicing.add_invoice_line('in_att2', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_att2')->>'status' AS status;
-- in_att3: a draft
SELECT invoicing.create_invoice('cus_att1', 'usd', id => 'in_att3');
SELECT invoicing.add_invoice_line('in_att3', 10000) IS NOT NULL AS added;
-- in_att5: void
SELECT invoicing.create_invoice('cus_att1', 'usd', id => 'in_att5');
SELECT invoicing.add_invoice_line('in_att5', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_att5')->>'status' AS status;
SELECT invoicing.void_invoice('in_att5')->>'status' AS status;
-- in_att6: uncollectible
SELECT invoicing.create_invoice('cus_att1', 'usd', id => 'in_att6');
SELECT invoicing.add_invoice_line('in_att6', 5000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_att6')->>'status' AS status;
SELECT invoicing.mark_uncollectible('in_att6')->>'status' AS status;
SELECT * FROM inv WHERE id LIKE 'in\_att%' ORDER BY id;

-- Attach an open PaymentIntent: a new open payment with amount_requested =
-- the PaymentIntent's amount; the invoice's amounts do not move.  The
-- invoice is returned with its payments expanded.
SELECT invoicing.create_payment_intent('cus_att1', 'usd', 3000, id => 'pi_att1a');
SELECT j->>'id' AS id, j->>'status' AS status, j->>'amount_paid' AS amount_paid,
       j->>'amount_remaining' AS amount_remaining,
       jsonb_array_length(j->'payments'->'data') AS payments,
       j->'payments'->'data'->0->'payment'->>'payment_intent' AS newest_payment_intent,
       j->'payments'->'data'->0->>'status' AS newest_status
  FROM invoicing.attach_payment('in_att1', 'pi_att1a') AS j;
SELECT invoice, payment_type, payment_intent, status, amount_requested, amount_paid,
       paid_at_set, canceled_at_set FROM pay WHERE invoice = 'in_att1';
SELECT currency, is_default, id LIKE 'inpay\_%' AS inpay_id
  FROM invoicing.invoice_payments WHERE payment_intent = 'pi_att1a';
SELECT * FROM inv WHERE id = 'in_att1';
SELECT * FROM invoicing.check_invariants();

-- Attaching it again to the same invoice changes nothing and returns the invoice.
SELECT pg_temp.fp('att') AS fp \gset
SELECT j->>'id' AS id, j->>'status' AS status, jsonb_array_length(j->'payments'->'data') AS payments
  FROM invoicing.attach_payment('in_att1', 'pi_att1a') AS j;
SELECT pg_temp.fp('att') = :'fp' AS unchanged;
SELECT count(*) AS payments FROM invoicing.invoice_payments WHERE payment_intent = 'pi_att1a';

-- P0002: the PaymentIntent or the invoice does not exist (checked first,
-- even for a PaymentIntent attached elsewhere).
SELECT invoicing.create_payment_intent('cus_att1', 'usd', 1000, id => 'pi_att1b');
SELECT pg_temp.fp('att') AS fp \gset
SELECT invoicing.attach_payment('in_att1', 'pi_att_missing');
SELECT invoicing.attach_payment('in_att_missing', 'pi_att1b');
SELECT invoicing.attach_payment('in_att_missing', 'pi_att1a');
SELECT invoicing.attach_payment('in_att_missing', 'pi_att_missing');
SELECT pg_temp.fp('att') = :'fp' AS unchanged;

-- 23505: attached to another invoice, whatever that invoice's status
-- (checked before the invoice's status).
SELECT invoicing.attach_payment('in_att2', 'pi_att1a');
SELECT invoicing.attach_payment('in_att3', 'pi_att1a');
SELECT invoicing.attach_payment('in_att5', 'pi_att1a');
SELECT pg_temp.fp('att') = :'fp' AS unchanged;
SELECT invoice, payment_intent, status FROM pay WHERE payment_intent = 'pi_att1a';
SELECT * FROM inv WHERE id IN ('in_att1', 'in_att2') ORDER BY id;

-- 55000: the invoice is a draft, paid or void.  The PaymentIntent here is in
-- another currency and above every amount remaining, so the 55000 shows the
-- status check comes before the currency and amount checks.
SELECT invoicing.create_payment_intent('cus_att1', 'eur', 50000, id => 'pi_att_eur');
-- in_att4: paid (by a PaymentIntent that had succeeded before it was attached)
SELECT invoicing.create_invoice('cus_att1', 'usd', id => 'in_att4');
SELECT invoicing.add_invoice_line('in_att4', 1000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_att4')->>'status' AS status;
SELECT invoicing.create_payment_intent('cus_att1', 'usd', 1000, 'succeeded', 'pi_att4');
SELECT invoicing.attach_payment('in_att4', 'pi_att4')->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_att4';
SELECT pg_temp.fp('att') AS fp \gset
SELECT invoicing.attach_payment('in_att3', 'pi_att_eur');
SELECT invoicing.attach_payment('in_att4', 'pi_att_eur');
SELECT invoicing.attach_payment('in_att5', 'pi_att_eur');
-- and with a PaymentIntent that would otherwise fit
SELECT invoicing.attach_payment('in_att3', 'pi_att1b');
SELECT invoicing.attach_payment('in_att4', 'pi_att1b');
SELECT invoicing.attach_payment('in_att5', 'pi_att1b');
SELECT pg_temp.fp('att') = :'fp' AS unchanged;
SELECT id, status FROM inv WHERE id IN ('in_att3', 'in_att4', 'in_att5') ORDER BY id;
SELECT count(*) AS payments FROM invoicing.invoice_payments WHERE invoice IN ('in_att3', 'in_att5');
SELECT invoice, payment_intent FROM pay WHERE invoice = 'in_att4';
SELECT count(*) AS attached FROM invoicing.invoice_payments
 WHERE payment_intent IN ('pi_att_eur', 'pi_att1b');

-- Already attached to this invoice: nothing changes and the invoice is
-- returned whatever its status (here paid; attaching anything else is 55000).
SELECT j->>'id' AS id, j->>'status' AS status, jsonb_array_length(j->'payments'->'data') AS payments
  FROM invoicing.attach_payment('in_att4', 'pi_att4') AS j;
SELECT pg_temp.fp('att') = :'fp' AS unchanged;

-- 55000: the PaymentIntent is canceled (before the currency check: this one
-- is in eur).
SELECT invoicing.create_payment_intent('cus_att1', 'eur', 100, 'canceled', 'pi_att_ceur');
SELECT invoicing.create_payment_intent('cus_att1', 'usd', 100, id => 'pi_att_c');
SELECT (invoicing.update_payment_intent('pi_att_c', 'canceled'))->>'status' AS status;
SELECT pg_temp.fp('att') AS fp \gset
SELECT invoicing.attach_payment('in_att1', 'pi_att_ceur');
SELECT invoicing.attach_payment('in_att1', 'pi_att_c');
SELECT pg_temp.fp('att') = :'fp' AS unchanged;

-- 22023: another currency, another customer, no customer; amount above
-- amount_remaining.
SELECT invoicing.create_payment_intent('cus_att1', 'eur', 100, id => 'pi_att_e');
SELECT invoicing.create_payment_intent('cus_att2', 'usd', 100, id => 'pi_att_o');
SELECT invoicing.create_payment_intent(NULL, 'usd', 100, id => 'pi_att_n');
SELECT invoicing.create_payment_intent('cus_att1', 'usd', 10001, id => 'pi_att_big');
SELECT pg_temp.fp('att') AS fp \gset
SELECT invoicing.attach_payment('in_att1', 'pi_att_e');
SELECT invoicing.attach_payment('in_att1', 'pi_att_o');
SELECT invoicing.attach_payment('in_att1', 'pi_att_n');
SELECT invoicing.attach_payment('in_att1', 'pi_att_big');
SELECT pg_temp.fp('att') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_att1';
SELECT payment_intent, status FROM pay WHERE invoice = 'in_att1' ORDER BY payment_intent;

-- Open payments do not lower amount_remaining: a second PaymentIntent of the
-- full 10000 can still be attached while 3000 is open.
SELECT invoicing.create_payment_intent('cus_att1', 'usd', 10000, id => 'pi_att1c');
SELECT invoicing.attach_payment('in_att1', 'pi_att1c')->>'amount_remaining' AS amount_remaining;
SELECT payment_intent, status, amount_requested, amount_paid FROM pay WHERE invoice = 'in_att1'
 ORDER BY payment_intent;
-- cancel it again: its payment is canceled, the invoice does not move
SELECT (invoicing.update_payment_intent('pi_att1c', 'canceled'))->>'status' AS status;
SELECT payment_intent, status, amount_paid, paid_at_set, canceled_at_set FROM pay
 WHERE invoice = 'in_att1' ORDER BY payment_intent;
SELECT * FROM inv WHERE id = 'in_att1';
-- re-attaching the canceled PaymentIntent to its invoice changes nothing
SELECT pg_temp.fp('att') AS fp \gset
SELECT invoicing.attach_payment('in_att1', 'pi_att1c')->>'id' AS id;
SELECT pg_temp.fp('att') = :'fp' AS unchanged;
SELECT * FROM invoicing.check_invariants();

-- A PaymentIntent that already succeeded is credited at once.
SELECT invoicing.create_payment_intent('cus_att1', 'usd', 3000, id => 'pi_att1d');
SELECT (invoicing.update_payment_intent('pi_att1d', 'succeeded'))->>'amount_received' AS amount_received;
SELECT * FROM inv WHERE id = 'in_att1';
SELECT j->>'status' AS status, j->>'amount_paid' AS amount_paid,
       j->>'amount_remaining' AS amount_remaining,
       j->'payments'->'data'->0->'payment'->>'payment_intent' AS newest_payment_intent,
       j->'payments'->'data'->0->>'status' AS newest_status,
       j->'payments'->'data'->0->>'amount_paid' AS newest_amount_paid
  FROM invoicing.attach_payment('in_att1', 'pi_att1d') AS j;
SELECT payment_intent, status, amount_requested, amount_paid, paid_at_set FROM pay
 WHERE invoice = 'in_att1' ORDER BY payment_intent;
SELECT * FROM inv WHERE id = 'in_att1';
SELECT * FROM invoicing.check_invariants();

-- amount_remaining is now 7000: 7001 and 10000 are refused (22023), 7000 fits.
SELECT invoicing.create_payment_intent('cus_att1', 'usd', 7001, id => 'pi_att_7001');
SELECT pg_temp.fp('att') AS fp \gset
SELECT invoicing.attach_payment('in_att1', 'pi_att_7001');
SELECT invoicing.attach_payment('in_att1', 'pi_att_big');
SELECT pg_temp.fp('att') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_att1';

-- A succeeded PaymentIntent that received less than its amount credits
-- what it received: amount_paid = min(amount_requested, amount_received).
INSERT INTO invoicing.payment_intents (id, customer, currency, amount, status, amount_received)
VALUES ('pi_att1e', 'cus_att1', 'usd', 1000, 'succeeded', 600);
SELECT amount, amount_received, status FROM invoicing.payment_intents WHERE id = 'pi_att1e';
SELECT invoicing.attach_payment('in_att1', 'pi_att1e')->>'amount_paid' AS amount_paid;
SELECT payment_intent, status, amount_requested, amount_paid FROM pay
 WHERE payment_intent = 'pi_att1e';
SELECT * FROM inv WHERE id = 'in_att1';
SELECT * FROM invoicing.check_invariants();

-- amount equal to amount_remaining (10000 - 3000 - 600 = 6400) fits; once it
-- succeeds the invoice is paid.
SELECT invoicing.create_payment_intent('cus_att1', 'usd', 6400, id => 'pi_att1f');
SELECT invoicing.attach_payment('in_att1', 'pi_att1f')->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_att1';
SELECT (invoicing.update_payment_intent('pi_att1f', 'succeeded'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_att1';
SELECT paid_at IS NOT NULL AS paid_at_set FROM invoicing.invoices WHERE id = 'in_att1';
SELECT payment_intent, status, amount_requested, amount_paid FROM pay
 WHERE invoice = 'in_att1' ORDER BY payment_intent;
-- and a paid invoice accepts no new PaymentIntent
SELECT invoicing.create_payment_intent('cus_att1', 'usd', 1, id => 'pi_att1g');
SELECT pg_temp.fp('att') AS fp \gset
SELECT invoicing.attach_payment('in_att1', 'pi_att1g');
SELECT pg_temp.fp('att') = :'fp' AS unchanged;
SELECT * FROM invoicing.check_invariants();

-- An uncollectible invoice accepts payments, and becomes paid when nothing remains.
SELECT invoicing.create_payment_intent('cus_att1', 'usd', 5000, id => 'pi_att6');
SELECT invoicing.attach_payment('in_att6', 'pi_att6')->>'status' AS status;
SELECT payment_intent, status, amount_requested FROM pay WHERE invoice = 'in_att6';
SELECT (invoicing.update_payment_intent('pi_att6', 'succeeded'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_att6';
SELECT paid_at IS NOT NULL AS paid_at_set, marked_uncollectible_at IS NOT NULL AS marked_at_set
  FROM invoicing.invoices WHERE id = 'in_att6';

-- The 10000 PaymentIntent matching in_att2's amount_remaining exactly attaches.
SELECT invoicing.create_payment_intent('cus_att1', 'usd', 10000, id => 'pi_att2');
SELECT invoicing.attach_payment('in_att2', 'pi_att2')->>'amount_remaining' AS amount_remaining;
SELECT payment_intent, status, amount_requested FROM pay WHERE invoice = 'in_att2';
SELECT * FROM invoicing.check_invariants();

-- pi_att1a is still open on the paid in_att1: canceling it cancels its
-- payment and leaves the invoice as it is.
SELECT (invoicing.update_payment_intent('pi_att1a', 'canceled'))->>'status' AS status;
SELECT payment_intent, status, amount_paid, canceled_at_set FROM pay WHERE payment_intent = 'pi_att1a';
SELECT * FROM inv WHERE id = 'in_att1';
SELECT * FROM invoicing.check_invariants();
