-- credit_notes: rule C on a partially paid invoice (issue 3, SPEC rule C, rule
-- CV, invariants 4 and 5; research S5): the pre/post split, mixed type,
-- dispositions that must cover the post part exactly, the total as the
-- limit, voiding only while the invoice is open.  Ids carry "cnm".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\i test/sql/include/cn_helpers.psql

-- S5: invoice 10000, 4000 paid through a PaymentIntent.
SELECT invoicing.create_customer('cnm1@example.com', 'Cnm One', 'cus_cnm1');
SELECT pg_temp.open_invoice('in_cnm1', 'cus_cnm1', 10000);
SELECT pg_temp.pay('in_cnm1', 'pi_cnm1', 4000);
SELECT * FROM inv WHERE id = 'in_cnm1';

-- Credit note 7000 with refund_amount 1000: pre = min(7000, remaining 6000)
-- = 6000, post = 1000, mixed.  amount_due = 10000 - 6000 = 4000, remaining
-- max(0, 4000 - 4000) = 0: the invoice is paid.  Counters 6000 / 1000.  One
-- refund of 1000, on the only paid payment.  No balance transaction.
SELECT invoicing.create_credit_note('in_cnm1', 7000, refund_amount => 1000) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM inv WHERE id = 'in_cnm1';
SELECT * FROM cn WHERE invoice = 'in_cnm1' ORDER BY number;
SELECT * FROM ref WHERE invoice = 'in_cnm1' ORDER BY credit_note, payment;
SELECT * FROM pay WHERE invoice = 'in_cnm1' ORDER BY payment;
SELECT pg_temp.balance('cus_cnm1') AS balance,
       (SELECT count(*) FROM txn WHERE customer = 'cus_cnm1') AS transactions;

-- Then 3000 with out_of_band_amount 3000: nothing remains, so pre 0, post
-- 3000, post_payment.  The invoice's amounts do not move; the post counter
-- is 1000 + 3000 = 4000.  No refund, no balance transaction.  10000 credited.
SELECT invoicing.create_credit_note('in_cnm1', 3000, out_of_band_amount => 3000) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM inv WHERE id = 'in_cnm1';
SELECT * FROM cn WHERE invoice = 'in_cnm1' ORDER BY number;
SELECT count(*) AS refunds FROM ref WHERE invoice = 'in_cnm1';
SELECT pg_temp.balance('cus_cnm1') AS balance;

-- Then 1 more (credit_amount 1): 10001 > total 10000: 22023.
SELECT pg_temp.fp('cnm') AS fp \gset
SELECT invoicing.create_credit_note('in_cnm1', 1, credit_amount => 1);
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
-- the same without dispositions, and in DML form
SELECT invoicing.create_credit_note('in_cnm1', 1);
INSERT INTO invoicing.credit_notes (invoice, amount, credit_amount) VALUES ('in_cnm1', 1, 1);
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_cnm1';

-- Voiding the first note: its invoice is paid, not open: 55000, by the
-- function and by DML.
SELECT invoicing.void_credit_note(pg_temp.cn_id('in_cnm1', 1));
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
UPDATE invoicing.credit_notes SET status = 'void' WHERE id = pg_temp.cn_id('in_cnm1', 1);
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
SELECT * FROM cn WHERE invoice = 'in_cnm1' ORDER BY number;
SELECT * FROM inv WHERE id = 'in_cnm1';
SELECT * FROM pg_temp.violations('cnm');

-- From the same start (10000, 4000 paid, 6000 remaining): in_cnm2.
SELECT pg_temp.open_invoice('in_cnm2', 'cus_cnm1', 10000);
SELECT pg_temp.pay('in_cnm2', 'pi_cnm2', 4000);
SELECT * FROM inv WHERE id = 'in_cnm2';
-- 7000 with no dispositions: the post part 1000 is not covered: 22023.
SELECT pg_temp.fp('cnm') AS fp \gset
SELECT invoicing.create_credit_note('in_cnm2', 7000);
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
-- refund_amount 2000: 2000 <> post 1000: 22023.
SELECT invoicing.create_credit_note('in_cnm2', 7000, refund_amount => 2000);
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
-- refund_amount 1000 + credit_amount 1000: 2000 <> 1000: 22023.
SELECT invoicing.create_credit_note('in_cnm2', 7000, refund_amount => 1000, credit_amount => 1000);
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
-- refund_amount 500 (not 1000): 500 <> 1000: 22023.
SELECT invoicing.create_credit_note('in_cnm2', 7000, refund_amount => 500);
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
-- credit_amount on a pure pre-payment note (3000 <= remaining 6000, so post
-- is 0): 22023.
SELECT invoicing.create_credit_note('in_cnm2', 3000, credit_amount => 3000);
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
SELECT invoicing.create_credit_note('in_cnm2', 3000, out_of_band_amount => 1);
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_cnm2';
SELECT count(*) AS notes FROM cn WHERE invoice = 'in_cnm2';

-- refund_amount 500 + credit_amount 500: accepted.  mixed 6000 / 1000; a
-- refund of 500; a credit_note balance transaction of -500 linked to the
-- note; the customer's balance -500.  The invoice: due 4000, paid 4000,
-- remaining 0, paid; counters 6000 / 1000.  This is the invoice's first
-- note: the failed attempts took no number.
SELECT invoicing.create_credit_note('in_cnm2', 7000, refund_amount => 500, credit_amount => 500) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM inv WHERE id = 'in_cnm2';
SELECT * FROM cn WHERE invoice = 'in_cnm2' ORDER BY number;
SELECT * FROM ref WHERE invoice = 'in_cnm2' ORDER BY credit_note, payment;
SELECT * FROM pay WHERE invoice = 'in_cnm2' ORDER BY payment;
SELECT customer, currency, type, amount, ending_balance, invoice, credit_note, linked
  FROM txn WHERE customer = 'cus_cnm1' ORDER BY created, seq;
SELECT pg_temp.balance('cus_cnm1') AS balance;
SELECT * FROM pg_temp.violations('cnm');
