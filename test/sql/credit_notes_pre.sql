-- credit_notes_pre: pre-payment credit notes and voiding them (issue 3; SPEC
-- rule C, rule CV, invariants 2, 4, 5 and 7; research S6, S7): the pre part
-- lowers amount_due, a void gives it back, a note can close an invoice with
-- no new payment, the total is the limit, void notes keep their numbers,
-- uncollectible invoices, open payments, drafts and void invoices.  Ids
-- carry "cnp".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\i test/sql/include/cn_helpers.psql

SELECT invoicing.create_customer('cnp1@example.com', 'Cnp One', 'cus_cnp1');

-- S6: invoice 10000, 2000 paid.
SELECT pg_temp.open_invoice('in_cnp1', 'cus_cnp1', 10000);
SELECT pg_temp.pay('in_cnp1', 'pi_cnp1', 2000);
SELECT * FROM inv WHERE id = 'in_cnp1';
-- 3000, no dispositions: 3000 <= remaining 8000, so pre 3000, post 0,
-- pre_payment.  amount_due 10000 - 3000 = 7000, remaining 7000 - 2000 =
-- 5000, still open; counters 3000 / 0.
SELECT invoicing.create_credit_note('in_cnp1', 3000) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM inv WHERE id = 'in_cnp1';
-- the same with credit_amount 3000: post is 0, so the dispositions must be
-- 0: 22023
SELECT pg_temp.fp('cnp') AS fp \gset
SELECT invoicing.create_credit_note('in_cnp1', 3000, credit_amount => 3000);
SELECT pg_temp.fp('cnp') = :'fp' AS unchanged;
-- Void it (rule CV): the invoice is open.  The note is void with voided_at
-- set; the pre part goes back: amount_due 10000, remaining 8000, counter 0.
SELECT invoicing.void_credit_note(pg_temp.cn_id('in_cnp1', 1)) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT jsonb_typeof(j->'voided_at') AS voided_at,
       (j->>'voided_at')::bigint = extract(epoch FROM date_trunc('second', c.voided_at))::bigint
         AS voided_at_matches
  FROM (SELECT :'j'::jsonb AS j) s JOIN invoicing.credit_notes c ON c.id = s.j->>'id';
SELECT * FROM inv WHERE id = 'in_cnp1';
SELECT * FROM cn WHERE invoice = 'in_cnp1' ORDER BY number;
-- voiding it again: 55000
SELECT pg_temp.fp('cnp') AS fp \gset
SELECT invoicing.void_credit_note(pg_temp.cn_id('in_cnp1', 1));
SELECT pg_temp.fp('cnp') = :'fp' AS unchanged;
-- Then 8000, no dispositions: 8000 <= remaining 8000: pre_payment 8000/0.
-- amount_due 2000 = amount_paid: remaining 0, paid, with no new payment.
-- Its number is -CN-02: the void note keeps -CN-01.
SELECT invoicing.create_credit_note('in_cnp1', 8000) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM inv WHERE id = 'in_cnp1';
SELECT * FROM pay WHERE invoice = 'in_cnp1' ORDER BY payment;
SELECT * FROM cn WHERE invoice = 'in_cnp1' ORDER BY number;
-- Voiding that: the invoice is no longer open: 55000, by the function and
-- by DML; and the void one is still void.
SELECT pg_temp.fp('cnp') AS fp \gset
SELECT invoicing.void_credit_note(pg_temp.cn_id('in_cnp1', 2));
SELECT pg_temp.fp('cnp') = :'fp' AS unchanged;
UPDATE invoicing.credit_notes SET status = 'void' WHERE id = pg_temp.cn_id('in_cnp1', 2);
SELECT pg_temp.fp('cnp') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_cnp1';
SELECT * FROM cn WHERE invoice = 'in_cnp1' ORDER BY number;
SELECT * FROM pg_temp.violations('cnp');

-- S7: no payments.  A credit note of the whole total: pre_payment
-- 10000/0; amount_due 0, remaining 0: paid.
SELECT pg_temp.open_invoice('in_cnp2', 'cus_cnp1', 10000);
SELECT invoicing.create_credit_note('in_cnp2', 10000) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM inv WHERE id = 'in_cnp2';
-- any further credit note: the total is fully credited: 22023, whatever
-- the dispositions
SELECT pg_temp.fp('cnp') AS fp \gset
SELECT invoicing.create_credit_note('in_cnp2', 1);
SELECT invoicing.create_credit_note('in_cnp2', 1, credit_amount => 1);
SELECT invoicing.create_credit_note('in_cnp2', 1, out_of_band_amount => 1);
INSERT INTO invoicing.credit_notes (invoice, amount, out_of_band_amount) VALUES ('in_cnp2', 1, 1);
SELECT pg_temp.fp('cnp') = :'fp' AS unchanged;
-- and it cannot be voided now: the invoice is paid
SELECT invoicing.void_credit_note(pg_temp.cn_id('in_cnp2', 1));
SELECT pg_temp.fp('cnp') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_cnp2';
SELECT * FROM pg_temp.violations('cnp');

-- Several pre-payment notes add up; the limit is the total, counting only
-- issued notes.  in_cnp3: 10000, nothing paid.
SELECT pg_temp.open_invoice('in_cnp3', 'cus_cnp1', 10000);
SELECT (invoicing.create_credit_note('in_cnp3', 4000))->>'type' AS type;
SELECT (invoicing.create_credit_note('in_cnp3', 4000))->>'type' AS type;
SELECT * FROM inv WHERE id = 'in_cnp3';
-- 2001 > 10000 - 8000: 22023
SELECT pg_temp.fp('cnp') AS fp \gset
SELECT invoicing.create_credit_note('in_cnp3', 2001);
SELECT pg_temp.fp('cnp') = :'fp' AS unchanged;
-- void the second: 6000 is creditable again; 6000 closes the invoice
SELECT (invoicing.void_credit_note(pg_temp.cn_id('in_cnp3', 2)))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_cnp3';
SELECT (invoicing.create_credit_note('in_cnp3', 6000))->>'type' AS type;
SELECT * FROM inv WHERE id = 'in_cnp3';
SELECT * FROM cn WHERE invoice = 'in_cnp3' ORDER BY number;
SELECT * FROM pg_temp.violations('cnp');

-- Uncollectible invoices take credit notes (rule C) but their notes cannot
-- be voided (rule CV: only while the invoice is open).  in_cnp4: 10000,
-- marked uncollectible.
SELECT pg_temp.open_invoice('in_cnp4', 'cus_cnp1', 10000);
SELECT (invoicing.mark_uncollectible('in_cnp4'))->>'status' AS status;
SELECT (invoicing.create_credit_note('in_cnp4', 3000))->>'type' AS type;
SELECT * FROM inv WHERE id = 'in_cnp4';
SELECT pg_temp.fp('cnp') AS fp \gset
SELECT invoicing.void_credit_note(pg_temp.cn_id('in_cnp4', 1));
SELECT pg_temp.fp('cnp') = :'fp' AS unchanged;
-- a note that brings amount_remaining to 0 makes it paid (invariant 7)
SELECT (invoicing.create_credit_note('in_cnp4', 7000))->>'type' AS type;
SELECT * FROM inv WHERE id = 'in_cnp4';
SELECT * FROM cn WHERE invoice = 'in_cnp4' ORDER BY number;
SELECT * FROM pg_temp.violations('cnp');

-- Credit notes are allowed while payments are open.  in_cnp5: 10000 with
-- pi_cnp5 8000 attached and still open.  A note of 5000: pre 5000 (nothing
-- is paid yet), amount_due 5000.  Then pi_cnp5 succeeds: 8000 paid on 5000
-- due: paid, amount_overpaid 3000, an invoice_overpaid transaction -3000.
SELECT pg_temp.open_invoice('in_cnp5', 'cus_cnp1', 10000);
SELECT invoicing.create_payment_intent('cus_cnp1', 'usd', 8000, id => 'pi_cnp5');
SELECT (invoicing.attach_payment('in_cnp5', 'pi_cnp5'))->>'status' AS status;
SELECT invoicing.create_credit_note('in_cnp5', 5000) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM inv WHERE id = 'in_cnp5';
SELECT (invoicing.update_payment_intent('pi_cnp5', 'succeeded'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_cnp5';
SELECT customer, currency, type, amount, ending_balance, invoice, credit_note
  FROM txn WHERE customer = 'cus_cnp1' ORDER BY created, seq;
SELECT pg_temp.balance('cus_cnp1') AS balance;
SELECT * FROM pg_temp.violations('cnp');

-- Drafts and void invoices take no credit note (rule C): 55000.  in_cnp6 is
-- a draft, in_cnp7 void (another customer, with no balance).
SELECT invoicing.create_customer(id => 'cus_cnp2');
SELECT invoicing.create_invoice('cus_cnp2', 'usd', id => 'in_cnp6');
SELECT invoicing.add_invoice_line('in_cnp6', 10000) IS NOT NULL AS added;
SELECT pg_temp.open_invoice('in_cnp7', 'cus_cnp2', 10000);
SELECT (invoicing.void_invoice('in_cnp7'))->>'status' AS status;
SELECT pg_temp.fp('cnp') AS fp \gset
SELECT invoicing.create_credit_note('in_cnp6', 1000);
INSERT INTO invoicing.credit_notes (invoice, amount) VALUES ('in_cnp6', 1000);
SELECT invoicing.create_credit_note('in_cnp7', 1000);
INSERT INTO invoicing.credit_notes (invoice, amount) VALUES ('in_cnp7', 1000);
SELECT pg_temp.fp('cnp') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id IN ('in_cnp6', 'in_cnp7') ORDER BY id;
SELECT * FROM pg_temp.violations('cnp');
