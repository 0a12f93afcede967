-- credit_notes_dml: the DML forms and the refusals (issue 3; SPEC 3, rule C,
-- rule CV, SPEC 4 on derived columns and deletes, SPEC 5): INSERT is
-- create_credit_note, UPDATE SET status = 'void' is void_credit_note,
-- derived columns 23514, credit notes and refunds never deleted, numbers
-- count void notes, bad arguments.  Ids carry "cnd".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\i test/sql/include/cn_helpers.psql

-- The functions are thin (SPEC 3): INSERT INTO invoicing.credit_notes is
-- create_credit_note, UPDATE ... SET status = 'void' is void_credit_note.
-- Derived columns are refused (23514), forbidden status changes are 55000,
-- setting a status to its current value by DML changes nothing, credit
-- notes and refunds are never deleted (55000).
SELECT invoicing.create_customer('cnd1@example.com', 'Cnd One', 'cus_cnd1');
-- in_cnd1 and in_cnd2: the same start, 10000 with 4000 paid
SELECT pg_temp.open_invoice('in_cnd1', 'cus_cnd1', 10000);
SELECT pg_temp.pay('in_cnd1', 'pi_cnd1', 4000);
SELECT pg_temp.open_invoice('in_cnd2', 'cus_cnd1', 10000);
SELECT pg_temp.pay('in_cnd2', 'pi_cnd2', 4000);

-- INSERT == create_credit_note: 7000 with refund 500 and credit 500, reason
-- and memo, by the function on in_cnd1 and by DML on in_cnd2.
SELECT * FROM pg_temp.show(invoicing.create_credit_note('in_cnd1', 7000, refund_amount => 500,
  credit_amount => 500, reason => 'order_change', memo => 'two items returned'));
INSERT INTO invoicing.credit_notes (invoice, amount, refund_amount, credit_amount, reason, memo)
VALUES ('in_cnd2', 7000, 500, 500, 'order_change', 'two items returned')
RETURNING pg_temp.rel_number(number, invoice) AS number, customer, currency, pre_payment_amount,
          post_payment_amount, type, status, voided_at IS NULL AS not_voided,
          customer_balance_transaction LIKE 'cbtxn\_%' AS has_txn,
          id ~ '^cn_[0-9A-Za-z]{24}$' AS generated_id;
SELECT * FROM cn WHERE invoice IN ('in_cnd1', 'in_cnd2') ORDER BY invoice, number;
SELECT * FROM inv WHERE id IN ('in_cnd1', 'in_cnd2') ORDER BY id;
SELECT * FROM ref WHERE invoice IN ('in_cnd1', 'in_cnd2') ORDER BY invoice, credit_note, payment;
SELECT customer, type, amount, ending_balance, invoice, credit_note, linked
  FROM txn WHERE customer = 'cus_cnd1' ORDER BY created, seq;
-- the two notes and the two invoices are the same but for their ids,
-- numbers and timestamps
SELECT (SELECT to_jsonb(c) - '{id,invoice,number,created,seq,customer_balance_transaction}'::text[]
          FROM invoicing.credit_notes c WHERE c.invoice = 'in_cnd1')
     = (SELECT to_jsonb(c) - '{id,invoice,number,created,seq,customer_balance_transaction}'::text[]
          FROM invoicing.credit_notes c WHERE c.invoice = 'in_cnd2') AS same_note,
       (SELECT to_jsonb(i) - '{id,number,created,finalized_at,paid_at}'::text[]
          FROM invoicing.invoices i WHERE i.id = 'in_cnd1')
     = (SELECT to_jsonb(i) - '{id,number,created,finalized_at,paid_at}'::text[]
          FROM invoicing.invoices i WHERE i.id = 'in_cnd2') AS same_invoice;
SELECT reason, memo FROM invoicing.credit_notes WHERE invoice IN ('in_cnd1', 'in_cnd2') ORDER BY invoice;
SELECT pg_temp.balance('cus_cnd1') AS balance;
SELECT * FROM pg_temp.violations('cnd');

-- A supplied id is kept; it must carry the cn_ prefix (22023).  (in_cnd3
-- uses cus_cnd1's balance of -1000 at finalization: amount_due 9000.)
SELECT invoicing.create_customer(id => 'cus_cnd2');
SELECT pg_temp.open_invoice('in_cnd3', 'cus_cnd1', 10000);
INSERT INTO invoicing.credit_notes (id, invoice, amount) VALUES ('cn_cnd3given', 'in_cnd3', 1000)
RETURNING id, pg_temp.rel_number(number, invoice) AS number, type;
SELECT pg_temp.fp('cnd') AS fp \gset
INSERT INTO invoicing.credit_notes (id, invoice, amount) VALUES ('re_cnd3bad', 'in_cnd3', 1000);
INSERT INTO invoicing.credit_notes (id, invoice, amount) VALUES ('cnd3bad', 'in_cnd3', 1000);
SELECT pg_temp.fp('cnd') = :'fp' AS unchanged;
-- Derived columns cannot be written on INSERT: 23514 each.
INSERT INTO invoicing.credit_notes (invoice, amount, customer) VALUES ('in_cnd3', 1000, 'cus_cnd1');
INSERT INTO invoicing.credit_notes (invoice, amount, currency) VALUES ('in_cnd3', 1000, 'usd');
INSERT INTO invoicing.credit_notes (invoice, amount, number) VALUES ('in_cnd3', 1000, 'X-CN-09');
INSERT INTO invoicing.credit_notes (invoice, amount, pre_payment_amount) VALUES ('in_cnd3', 1000, 1000);
INSERT INTO invoicing.credit_notes (invoice, amount, post_payment_amount) VALUES ('in_cnd3', 1000, 0);
INSERT INTO invoicing.credit_notes (invoice, amount, type) VALUES ('in_cnd3', 1000, 'pre_payment');
INSERT INTO invoicing.credit_notes (invoice, amount, voided_at) VALUES ('in_cnd3', 1000, now());
INSERT INTO invoicing.credit_notes (invoice, amount, customer_balance_transaction) VALUES ('in_cnd3', 1000, 'cbtxn_x');
SELECT pg_temp.fp('cnd') = :'fp' AS unchanged;
-- A note is created issued; inserting it void is a status change rule C
-- does not allow: 55000.
INSERT INTO invoicing.credit_notes (invoice, amount, status) VALUES ('in_cnd3', 1000, 'void');
SELECT pg_temp.fp('cnd') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_cnd3';
SELECT * FROM cn WHERE invoice = 'in_cnd3' ORDER BY number;

-- UPDATE ... SET status = 'void' == void_credit_note.  in_cnd4 and in_cnd5:
-- 10000 with 2000 paid and a note of 3000 each (amount_due 7000).
SELECT pg_temp.open_invoice('in_cnd4', 'cus_cnd1', 10000);
SELECT pg_temp.pay('in_cnd4', 'pi_cnd4', 2000);
SELECT (invoicing.create_credit_note('in_cnd4', 3000))->>'type' AS type;
SELECT pg_temp.open_invoice('in_cnd5', 'cus_cnd1', 10000);
SELECT pg_temp.pay('in_cnd5', 'pi_cnd5', 2000);
SELECT (invoicing.create_credit_note('in_cnd5', 3000))->>'type' AS type;
SELECT * FROM inv WHERE id IN ('in_cnd4', 'in_cnd5') ORDER BY id;
SELECT (invoicing.void_credit_note(pg_temp.cn_id('in_cnd4', 1)))->>'status' AS status;
UPDATE invoicing.credit_notes SET status = 'void' WHERE id = pg_temp.cn_id('in_cnd5', 1)
RETURNING status, voided_at IS NOT NULL AS voided_at_set;
SELECT * FROM cn WHERE invoice IN ('in_cnd4', 'in_cnd5') ORDER BY invoice, number;
SELECT * FROM inv WHERE id IN ('in_cnd4', 'in_cnd5') ORDER BY id;
SELECT (SELECT to_jsonb(c) - '{id,invoice,number,created,seq,voided_at}'::text[]
          FROM invoicing.credit_notes c WHERE c.invoice = 'in_cnd4')
     = (SELECT to_jsonb(c) - '{id,invoice,number,created,seq,voided_at}'::text[]
          FROM invoicing.credit_notes c WHERE c.invoice = 'in_cnd5') AS same_note,
       (SELECT to_jsonb(i) - '{id,number,created,finalized_at,paid_at}'::text[]
          FROM invoicing.invoices i WHERE i.id = 'in_cnd4')
     = (SELECT to_jsonb(i) - '{id,number,created,finalized_at,paid_at}'::text[]
          FROM invoicing.invoices i WHERE i.id = 'in_cnd5') AS same_invoice;
-- void_credit_note twice: 55000
SELECT pg_temp.fp('cnd') AS fp \gset
SELECT invoicing.void_credit_note(pg_temp.cn_id('in_cnd4', 1));
SELECT invoicing.void_credit_note(pg_temp.cn_id('in_cnd5', 1));
SELECT pg_temp.fp('cnd') = :'fp' AS unchanged;
-- DML setting the same status changes nothing (no new voided_at, no event,
-- no change to the invoice)
UPDATE invoicing.credit_notes SET status = 'void' WHERE invoice IN ('in_cnd4', 'in_cnd5');
SELECT pg_temp.fp('cnd') = :'fp' AS unchanged;
UPDATE invoicing.credit_notes SET status = 'issued' WHERE invoice = 'in_cnd1';
SELECT pg_temp.fp('cnd') = :'fp' AS unchanged;
-- void -> issued: 55000
UPDATE invoicing.credit_notes SET status = 'issued' WHERE invoice = 'in_cnd4';
SELECT pg_temp.fp('cnd') = :'fp' AS unchanged;
SELECT * FROM cn WHERE invoice IN ('in_cnd4', 'in_cnd5') ORDER BY invoice, number;
-- numbers count void notes: the next notes are -CN-02, by either form
SELECT (invoicing.create_credit_note('in_cnd4', 1000))->>'type' AS type;
INSERT INTO invoicing.credit_notes (invoice, amount) VALUES ('in_cnd5', 1000);
SELECT * FROM cn WHERE invoice IN ('in_cnd4', 'in_cnd5') ORDER BY invoice, number;
SELECT * FROM inv WHERE id IN ('in_cnd4', 'in_cnd5') ORDER BY id;
SELECT * FROM pg_temp.violations('cnd');

-- Columns of an issued note other than memo and metadata cannot change:
-- the derived ones (23514), and the amounts and invoice it was issued with
-- (changing them would break invariants 4 and 5: 23514).
SELECT pg_temp.fp('cnd') AS fp \gset
UPDATE invoicing.credit_notes SET pre_payment_amount = 0 WHERE invoice = 'in_cnd1';
UPDATE invoicing.credit_notes SET post_payment_amount = 7000 WHERE invoice = 'in_cnd1';
UPDATE invoicing.credit_notes SET type = 'pre_payment' WHERE invoice = 'in_cnd1';
UPDATE invoicing.credit_notes SET number = 'X-CN-01' WHERE invoice = 'in_cnd1';
UPDATE invoicing.credit_notes SET customer = 'cus_cnd2' WHERE invoice = 'in_cnd1';
UPDATE invoicing.credit_notes SET currency = 'eur' WHERE invoice = 'in_cnd1';
UPDATE invoicing.credit_notes SET voided_at = now() WHERE invoice = 'in_cnd1';
UPDATE invoicing.credit_notes SET customer_balance_transaction = NULL WHERE invoice = 'in_cnd1';
UPDATE invoicing.credit_notes SET amount = 6000 WHERE invoice = 'in_cnd1';
UPDATE invoicing.credit_notes SET refund_amount = 1000, credit_amount = 0 WHERE invoice = 'in_cnd1';
UPDATE invoicing.credit_notes SET invoice = 'in_cnd2' WHERE invoice = 'in_cnd1';
SELECT pg_temp.fp('cnd') = :'fp' AS unchanged;
-- memo and metadata may change
UPDATE invoicing.credit_notes SET memo = 'corrected memo', metadata = '{"ticket": "T-1"}'
 WHERE invoice = 'in_cnd1' RETURNING memo, metadata;
SELECT j->>'memo' AS memo, j->'metadata' AS metadata
  FROM invoicing.credit_note_json(pg_temp.cn_id('in_cnd1', 1)) AS j;
SELECT * FROM cn WHERE invoice = 'in_cnd1';

-- Refunds: every column is the extension's (23514); none is written or
-- changed by DML.
SELECT pg_temp.fp('cnd') AS fp \gset
UPDATE invoicing.refunds SET amount = 1
 WHERE credit_note = pg_temp.cn_id('in_cnd1', 1);
UPDATE invoicing.refunds SET currency = 'eur'
 WHERE credit_note = pg_temp.cn_id('in_cnd1', 1);
UPDATE invoicing.refunds SET invoice_payment = (SELECT id FROM invoicing.invoice_payments WHERE invoice = 'in_cnd2')
 WHERE credit_note = pg_temp.cn_id('in_cnd1', 1);
UPDATE invoicing.refunds SET credit_note = pg_temp.cn_id('in_cnd2', 1)
 WHERE credit_note = pg_temp.cn_id('in_cnd1', 1);
INSERT INTO invoicing.refunds (credit_note, invoice_payment, payment_intent, amount, currency)
SELECT pg_temp.cn_id('in_cnd1', 1), p.id, p.payment_intent, 100, 'usd'
  FROM invoicing.invoice_payments p WHERE p.invoice = 'in_cnd1';
SELECT pg_temp.fp('cnd') = :'fp' AS unchanged;

-- Credit notes and refunds are never deleted: 55000 (issued or void).
DELETE FROM invoicing.credit_notes WHERE invoice = 'in_cnd1';
DELETE FROM invoicing.credit_notes WHERE invoice = 'in_cnd4' AND status = 'void';
DELETE FROM invoicing.refunds WHERE credit_note = pg_temp.cn_id('in_cnd1', 1);
SELECT pg_temp.fp('cnd') = :'fp' AS unchanged;
-- TRUNCATE deletes too: emptying refunds that way is refused as well
-- (55000; inside a transaction rolled back, in case it is not)
BEGIN;
TRUNCATE invoicing.refunds;
ROLLBACK;
SELECT pg_temp.fp('cnd') = :'fp' AS unchanged;
SELECT count(*) AS notes FROM cn WHERE invoice LIKE 'in\_cnd%';
SELECT count(*) AS refunds FROM ref WHERE invoice LIKE 'in\_cnd%';

-- The invoice's credit-note counters are derived: 23514.
UPDATE invoicing.invoices SET pre_payment_credit_notes_amount = 0 WHERE id = 'in_cnd1';
UPDATE invoicing.invoices SET post_payment_credit_notes_amount = 0 WHERE id = 'in_cnd1';
SELECT pg_temp.fp('cnd') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_cnd1';

-- Bad arguments, by function and by DML, change nothing.
-- no such invoice or credit note: P0002
SELECT invoicing.create_credit_note('in_cnd_nope', 1000);
INSERT INTO invoicing.credit_notes (invoice, amount) VALUES ('in_cnd_nope', 1000);
SELECT invoicing.void_credit_note('cn_cnd_nope');
SELECT invoicing.credit_note_json('cn_cnd_nope');
-- NULL where a value is needed: 22004
SELECT invoicing.create_credit_note(NULL, 1000);
SELECT invoicing.create_credit_note('in_cnd3', NULL);
SELECT invoicing.create_credit_note('in_cnd3', 1000, refund_amount => NULL);
SELECT invoicing.create_credit_note('in_cnd3', 1000, credit_amount => NULL);
SELECT invoicing.create_credit_note('in_cnd3', 1000, out_of_band_amount => NULL);
SELECT invoicing.void_credit_note(NULL);
-- amount not above 0, a negative disposition, an unknown reason: 22023
SELECT invoicing.create_credit_note('in_cnd3', 0);
SELECT invoicing.create_credit_note('in_cnd3', -1000);
INSERT INTO invoicing.credit_notes (invoice, amount) VALUES ('in_cnd3', 0);
SELECT invoicing.create_credit_note('in_cnd3', 1000, refund_amount => -1, credit_amount => 1);
INSERT INTO invoicing.credit_notes (invoice, amount, out_of_band_amount, credit_amount) VALUES ('in_cnd3', 1000, -5, 5);
SELECT invoicing.create_credit_note('in_cnd3', 1000, reason => 'changed_my_mind');
-- amounts that overflow bigint: 22003 (SPEC 1)
SELECT invoicing.create_credit_note('in_cnd2', 3000, refund_amount => 9223372036854775807, credit_amount => 1);
SELECT pg_temp.fp('cnd') = :'fp' AS unchanged;
-- an amount far above the total: 22023
SELECT invoicing.create_credit_note('in_cnd3', 9223372036854775807);
SELECT pg_temp.fp('cnd') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_cnd3';
SELECT * FROM pg_temp.violations('cnd');
