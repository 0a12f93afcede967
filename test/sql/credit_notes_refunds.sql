-- credit_notes_refunds: refund_amount (issue 3; SPEC rule C, invariant 9):
-- capped by what PaymentIntent payments still have unrefunded, spread over
-- them newest first (created, then insertion order), never on open,
-- canceled or out-of-band payments.  Ids carry "cnr".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\i test/sql/include/cn_helpers.psql

-- Refunds (rule C, invariant 9): refund_amount is at most what is still
-- refundable: the amount_paid of the invoice's paid PaymentIntent payments
-- minus their refunds (out-of-band money goes back through
-- out_of_band_amount); it is spread over those payments newest first (by
-- the payment's created, then insertion order) as refunds rows.
SELECT invoicing.create_customer('cnr1@example.com', 'Cnr One', 'cus_cnr1');

-- in_cnr1: 10000.  pi_cnr1a pays 3000, then pi_cnr1b 2000 (newer), then
-- 1000 out of band (newest, not refundable); pi_cnr1c 1000 is attached and
-- still open; pi_cnr1d 500 was attached and canceled.  Remaining 4000;
-- refundable 3000 + 2000 = 5000.
SELECT pg_temp.open_invoice('in_cnr1', 'cus_cnr1', 10000);
SELECT pg_temp.pay('in_cnr1', 'pi_cnr1a', 3000);
SELECT pg_temp.pay('in_cnr1', 'pi_cnr1b', 2000);
SELECT (invoicing.attach_out_of_band_payment('in_cnr1', 1000, 'cheque 17'))->>'amount_remaining' AS amount_remaining;
SELECT invoicing.create_payment_intent('cus_cnr1', 'usd', 1000, id => 'pi_cnr1c');
SELECT (invoicing.attach_payment('in_cnr1', 'pi_cnr1c'))->>'status' AS status;
SELECT invoicing.create_payment_intent('cus_cnr1', 'usd', 500, id => 'pi_cnr1d');
SELECT (invoicing.attach_payment('in_cnr1', 'pi_cnr1d'))->>'status' AS status;
SELECT (invoicing.update_payment_intent('pi_cnr1d', 'canceled'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_cnr1';
SELECT * FROM pay WHERE invoice = 'in_cnr1' ORDER BY payment;

-- 10000 with refund_amount 6000: pre 4000, post 6000, the dispositions add
-- up, but only 5000 is refundable: 22023.
SELECT pg_temp.fp('cnr') AS fp \gset
SELECT invoicing.create_credit_note('in_cnr1', 10000, refund_amount => 6000);
SELECT pg_temp.fp('cnr') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_cnr1';

-- 6500 with refund_amount 2500: pre 4000, post 2500, mixed.  The refund
-- goes newest first: 2000 on pi_cnr1b (all of it), 500 on pi_cnr1a.  The
-- note's refunds list carries both.  Invoice: due 6000, paid 6000, paid.
SELECT invoicing.create_credit_note('in_cnr1', 6500, refund_amount => 2500) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM ref WHERE invoice = 'in_cnr1' ORDER BY credit_note, payment;
-- the refunds list names the refunds rows
SELECT (SELECT array_agg(r->>'refund' ORDER BY r->>'refund') FROM jsonb_array_elements((:'j'::jsonb)->'refunds') r)
     = (SELECT array_agg(id ORDER BY id) FROM invoicing.refunds WHERE credit_note = (:'j'::jsonb)->>'id')
       AS refunds_listed;
SELECT * FROM pay WHERE invoice = 'in_cnr1' ORDER BY payment;
SELECT * FROM inv WHERE id = 'in_cnr1';

-- 3000 with refund_amount 3000: 2500 left to refund: 22023.
SELECT pg_temp.fp('cnr') AS fp \gset
SELECT invoicing.create_credit_note('in_cnr1', 3000, refund_amount => 3000);
SELECT pg_temp.fp('cnr') = :'fp' AS unchanged;
-- 2500 with refund_amount 2500: pi_cnr1b has nothing left, so all of it on
-- pi_cnr1a (now fully refunded).
SELECT invoicing.create_credit_note('in_cnr1', 2500, refund_amount => 2500) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM ref WHERE invoice = 'in_cnr1' ORDER BY credit_note, payment;
SELECT * FROM pay WHERE invoice = 'in_cnr1' ORDER BY payment;
-- nothing is refundable now: 1000 with 1 refunded is 22023; the same 1000
-- out of band is fine (the out-of-band payment's money goes back that way)
SELECT pg_temp.fp('cnr') AS fp \gset
SELECT invoicing.create_credit_note('in_cnr1', 1000, refund_amount => 1, out_of_band_amount => 999);
SELECT pg_temp.fp('cnr') = :'fp' AS unchanged;
SELECT (invoicing.create_credit_note('in_cnr1', 1000, out_of_band_amount => 1000))->>'type' AS type;
SELECT * FROM cn WHERE invoice = 'in_cnr1' ORDER BY number;
SELECT * FROM inv WHERE id = 'in_cnr1';
-- pi_cnr1c now succeeds: 7000 paid on 6000 due: overpaid 1000 (an
-- invoice_overpaid transaction of -1000).  Its money is refundable, but the
-- invoice is fully credited (10000), so no note can refund it.
SELECT (invoicing.update_payment_intent('pi_cnr1c', 'succeeded'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_cnr1';
SELECT customer, currency, type, amount, ending_balance, invoice
  FROM txn WHERE customer = 'cus_cnr1' ORDER BY created, seq;
SELECT pg_temp.fp('cnr') AS fp \gset
SELECT invoicing.create_credit_note('in_cnr1', 1, refund_amount => 1);
SELECT pg_temp.fp('cnr') = :'fp' AS unchanged;
SELECT * FROM pay WHERE invoice = 'in_cnr1' ORDER BY payment;
SELECT * FROM pg_temp.violations('cnr');

-- Same created: two payments credited in one transaction have the same
-- created; the later inserted is the newer.  in_cnr2: 5000 paid by
-- pi_cnr2a 2500 then pi_cnr2b 2500 in one transaction.  A note of 3000
-- refunding 3000: 2500 on pi_cnr2b, 500 on pi_cnr2a.  (A second customer
-- from here on: cus_cnr1 has a balance now, which later invoices would use.)
SELECT invoicing.create_customer(id => 'cus_cnr2');
SELECT pg_temp.open_invoice('in_cnr2', 'cus_cnr2', 5000);
BEGIN;
SELECT pg_temp.pay('in_cnr2', 'pi_cnr2a', 2500);
SELECT pg_temp.pay('in_cnr2', 'pi_cnr2b', 2500);
COMMIT;
SELECT count(DISTINCT created) AS distinct_created FROM invoicing.invoice_payments WHERE invoice = 'in_cnr2';
SELECT * FROM inv WHERE id = 'in_cnr2';
SELECT (invoicing.create_credit_note('in_cnr2', 3000, refund_amount => 3000))->>'type' AS type;
SELECT * FROM ref WHERE invoice = 'in_cnr2' ORDER BY credit_note, payment;
SELECT * FROM pay WHERE invoice = 'in_cnr2' ORDER BY payment;
SELECT * FROM pg_temp.violations('cnr');

-- created decides before insertion order: in_cnr3, 5000.  pi_cnr3a pays
-- 2500 (created now); then a payment of pi_cnr3b is inserted by DML with a
-- created one day back, and pays 2500.  pi_cnr3a is the newest: a refund
-- of 3000 takes 2500 from it and 500 from pi_cnr3b.
SELECT pg_temp.open_invoice('in_cnr3', 'cus_cnr2', 5000);
SELECT pg_temp.pay('in_cnr3', 'pi_cnr3a', 2500);
SELECT invoicing.create_payment_intent('cus_cnr2', 'usd', 2500, id => 'pi_cnr3b');
INSERT INTO invoicing.invoice_payments (invoice, payment_intent, created)
VALUES ('in_cnr3', 'pi_cnr3b', now() - interval '1 day');
SELECT (invoicing.update_payment_intent('pi_cnr3b', 'succeeded'))->>'status' AS status;
SELECT payment_intent, rank() OVER (ORDER BY created DESC) AS newest_first
  FROM invoicing.invoice_payments WHERE invoice = 'in_cnr3' ORDER BY payment_intent;
SELECT * FROM inv WHERE id = 'in_cnr3';
SELECT (invoicing.create_credit_note('in_cnr3', 3000, refund_amount => 3000))->>'type' AS type;
SELECT * FROM ref WHERE invoice = 'in_cnr3' ORDER BY credit_note, payment;
SELECT * FROM pay WHERE invoice = 'in_cnr3' ORDER BY payment;
SELECT * FROM pg_temp.violations('cnr');

-- Only money paid through PaymentIntents is refundable: in_cnr4, 3000 paid
-- out of band (pay_invoice).  Refunding 1 is 22023; out of band is fine.
SELECT pg_temp.open_invoice('in_cnr4', 'cus_cnr2', 3000);
SELECT (invoicing.pay_invoice('in_cnr4'))->>'status' AS status;
SELECT pg_temp.fp('cnr') AS fp \gset
SELECT invoicing.create_credit_note('in_cnr4', 1000, refund_amount => 1000);
INSERT INTO invoicing.credit_notes (invoice, amount, refund_amount) VALUES ('in_cnr4', 1000, 1000);
SELECT pg_temp.fp('cnr') = :'fp' AS unchanged;
SELECT (invoicing.create_credit_note('in_cnr4', 1000, out_of_band_amount => 1000))->>'type' AS type;
SELECT * FROM inv WHERE id = 'in_cnr4';
SELECT count(*) AS refunds FROM ref WHERE invoice = 'in_cnr4';
SELECT * FROM pg_temp.violations('cnr');

-- A partly captured PaymentIntent: pi_cnr5 of 4000 succeeds with
-- amount_received 2500, so its payment has amount_paid 2500: at most 2500
-- is refundable.  in_cnr5: 4000.
SELECT pg_temp.open_invoice('in_cnr5', 'cus_cnr2', 4000);
SELECT invoicing.create_payment_intent('cus_cnr2', 'usd', 4000, id => 'pi_cnr5');
SELECT (invoicing.attach_payment('in_cnr5', 'pi_cnr5'))->>'status' AS status;
SELECT (invoicing.update_payment_intent('pi_cnr5', 'succeeded', 2500))->>'amount_received' AS amount_received;
SELECT * FROM inv WHERE id = 'in_cnr5';
-- 4000 = pre 1500 + post 2500; refunding 2500 is all of it
SELECT pg_temp.fp('cnr') AS fp \gset
SELECT invoicing.create_credit_note('in_cnr5', 4000, refund_amount => 2500, credit_amount => 1);
SELECT pg_temp.fp('cnr') = :'fp' AS unchanged;
SELECT invoicing.create_credit_note('in_cnr5', 4000, refund_amount => 2500) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM inv WHERE id = 'in_cnr5';
SELECT * FROM pay WHERE invoice = 'in_cnr5' ORDER BY payment;
SELECT * FROM pg_temp.violations('cnr');
