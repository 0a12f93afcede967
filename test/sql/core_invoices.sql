-- core_invoices: invoices and lines (invariants 1 and 2), finalization
-- (rule F: draft only, total >= 0, number, customer balance applied, paid at
-- once when nothing is due) and deletion (drafts only).  Ids carry "fin".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\i test/sql/include/core_helpers.psql

SELECT invoicing.create_customer('fin1@example.com', 'Fin One', 'cus_fin1');

-- A new invoice is a draft with every derived value at its start (invariant 2).
SELECT invoicing.create_invoice('cus_fin1', 'usd', id => 'in_fin1');
SELECT * FROM inv WHERE id = 'in_fin1';
SELECT status, collection_method, number IS NULL AS no_number, subtotal,
       pre_payment_credit_notes_amount, post_payment_credit_notes_amount,
       finalized_at IS NULL AS not_finalized, paid_at IS NULL AS not_paid
  FROM invoicing.invoices WHERE id = 'in_fin1';

-- Lines: amount = quantity * unit_amount; subtotal = total = sum (invariant 1).
SELECT invoicing.add_invoice_line('in_fin1', 6000, description => 'six') LIKE 'il\_%' AS line_id;
SELECT invoicing.add_invoice_line('in_fin1', 2000, 2, 'two times two') LIKE 'il\_%' AS line_id;
SELECT description, quantity, unit_amount, amount FROM invoicing.invoice_lines
 WHERE invoice = 'in_fin1' ORDER BY amount;
SELECT * FROM inv WHERE id = 'in_fin1';
SELECT subtotal, total FROM invoicing.invoices WHERE id = 'in_fin1';
-- a discount line (negative unit_amount) lowers the total
SELECT invoicing.add_invoice_line('in_fin1', -1500, description => 'discount') IS NOT NULL AS added;
SELECT * FROM inv WHERE id = 'in_fin1';
-- a line changed or removed on a draft moves the total by its own amount
UPDATE invoicing.invoice_lines SET quantity = 3 WHERE invoice = 'in_fin1' AND description = 'discount';
SELECT description, quantity, unit_amount, amount FROM invoicing.invoice_lines
 WHERE invoice = 'in_fin1' ORDER BY amount;
SELECT * FROM inv WHERE id = 'in_fin1';
DELETE FROM invoicing.invoice_lines WHERE invoice = 'in_fin1' AND description = 'discount';
SELECT * FROM inv WHERE id = 'in_fin1';
SELECT * FROM invoicing.check_invariants();

-- Rule F: finalize a draft.  Customer balance 0: starting 0, ending 0, no
-- balance transaction, amount_due = total, a number, no payment.
SELECT j->>'status' AS status, j->>'amount_due' AS amount_due, j->'number' IS NOT NULL
       AND jsonb_typeof(j->'number') = 'string' AS has_number
  FROM invoicing.finalize_invoice('in_fin1') AS j;
SELECT * FROM inv WHERE id = 'in_fin1';
SELECT number IS NOT NULL AS numbered, finalized_at IS NOT NULL AS finalized_at_set,
       paid_at IS NULL AS not_paid
  FROM invoicing.invoices WHERE id = 'in_fin1';
SELECT count(*) AS payments FROM invoicing.invoice_payments WHERE invoice = 'in_fin1';
SELECT count(*) AS transactions FROM invoicing.customer_balance_transactions WHERE customer = 'cus_fin1';
SELECT * FROM invoicing.check_invariants();

-- Only a draft can be finalized (55000), and only a draft's lines change (55000).
SELECT pg_temp.fp('fin') AS fp \gset
SELECT invoicing.finalize_invoice('in_fin1');
SELECT invoicing.add_invoice_line('in_fin1', 100);
INSERT INTO invoicing.invoice_lines (invoice, unit_amount) VALUES ('in_fin1', 100);
UPDATE invoicing.invoice_lines SET quantity = 5 WHERE invoice = 'in_fin1';
DELETE FROM invoicing.invoice_lines WHERE invoice = 'in_fin1';
SELECT pg_temp.fp('fin') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_fin1';
SELECT count(*) AS lines FROM invoicing.invoice_lines WHERE invoice = 'in_fin1';

-- A negative total cannot be finalized (22023); the draft stays as it was.
SELECT invoicing.create_invoice('cus_fin1', 'usd', id => 'in_fin2');
SELECT invoicing.add_invoice_line('in_fin2', 1000) IS NOT NULL AS added;
SELECT invoicing.add_invoice_line('in_fin2', -1500) IS NOT NULL AS added;
-- a draft: amount_due = total, amount_remaining = max(0, total)
SELECT * FROM inv WHERE id = 'in_fin2';
SELECT * FROM invoicing.check_invariants();
SELECT pg_temp.fp('fin') AS fp \gset
SELECT invoicing.finalize_invoice('in_fin2');
UPDATE invoicing.invoices SET status = 'open' WHERE id = 'in_fin2';
SELECT pg_temp.fp('fin') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_fin2';
SELECT number IS NULL AS no_number, finalized_at IS NULL AS not_finalized
  FROM invoicing.invoices WHERE id = 'in_fin2';

-- Deleting a draft works (its lines go with it).
DELETE FROM invoicing.invoices WHERE id = 'in_fin2';
SELECT count(*) AS invoices FROM invoicing.invoices WHERE id = 'in_fin2';
SELECT count(*) AS lines FROM invoicing.invoice_lines WHERE invoice = 'in_fin2';

-- A total of 0 is due 0: paid at finalization, with no payment.
SELECT invoicing.create_invoice('cus_fin1', 'usd', id => 'in_fin3');
SELECT invoicing.add_invoice_line('in_fin3', 1000) IS NOT NULL AS added;
SELECT invoicing.add_invoice_line('in_fin3', -1000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_fin3')->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_fin3';
SELECT number IS NOT NULL AS numbered, finalized_at IS NOT NULL AS finalized_at_set,
       paid_at IS NOT NULL AS paid_at_set
  FROM invoicing.invoices WHERE id = 'in_fin3';
SELECT count(*) AS payments FROM invoicing.invoice_payments WHERE invoice = 'in_fin3';
-- an invoice without lines too
SELECT invoicing.create_invoice('cus_fin1', 'usd', id => 'in_fin4');
SELECT invoicing.finalize_invoice('in_fin4')->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_fin4';
SELECT * FROM invoicing.check_invariants();

-- Deleting a finalized invoice is 55000 (open, paid); nothing changes.
SELECT pg_temp.fp('fin') AS fp \gset
DELETE FROM invoicing.invoices WHERE id = 'in_fin1';
DELETE FROM invoicing.invoices WHERE id = 'in_fin3';
SELECT pg_temp.fp('fin') = :'fp' AS unchanged;
SELECT id, status FROM inv WHERE id IN ('in_fin1', 'in_fin3') ORDER BY id;
-- finalizing a paid invoice is 55000 too
SELECT invoicing.finalize_invoice('in_fin3');
SELECT pg_temp.fp('fin') = :'fp' AS unchanged;

-- A customer credit (negative balance) smaller than the total: starting
-- balance B = -15000, amount_due = max(0, 20000 - 15000) = 5000, ending 0, and
-- an applied_to_invoice transaction of ending - B = +15000.
SELECT invoicing.create_customer(id => 'cus_fin2');
SELECT (invoicing.adjust_customer_balance('cus_fin2', 'usd', -15000))->>'ending_balance' AS balance;
SELECT invoicing.create_invoice('cus_fin2', 'usd', id => 'in_fin5');
SELECT invoicing.add_invoice_line('in_fin5', 20000) IS NOT NULL AS added;
-- a draft does not use the balance
SELECT * FROM inv WHERE id = 'in_fin5';
SELECT invoicing.finalize_invoice('in_fin5')->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_fin5';
SELECT type, amount, ending_balance, invoice FROM txn WHERE customer = 'cus_fin2' ORDER BY created, amount;
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_fin2';
SELECT * FROM invoicing.check_invariants();

-- A credit bigger than the total: B = -5000, total 3000: amount_due 0,
-- ending_balance -2000, applied_to_invoice +3000, paid at once.
SELECT invoicing.create_customer(id => 'cus_fin3');
SELECT (invoicing.adjust_customer_balance('cus_fin3', 'usd', -5000))->>'ending_balance' AS balance;
SELECT invoicing.create_invoice('cus_fin3', 'usd', id => 'in_fin6');
SELECT invoicing.add_invoice_line('in_fin6', 3000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_fin6')->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_fin6';
SELECT paid_at IS NOT NULL AS paid_at_set FROM invoicing.invoices WHERE id = 'in_fin6';
SELECT count(*) AS payments FROM invoicing.invoice_payments WHERE invoice = 'in_fin6';
SELECT type, amount, ending_balance, invoice FROM txn WHERE customer = 'cus_fin3' ORDER BY created, amount;
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_fin3';
-- the rest of the credit goes to the next invoice: B = -2000, total 1500:
-- amount_due 0, ending -500, applied +1500, paid at once
SELECT invoicing.create_invoice('cus_fin3', 'usd', id => 'in_fin7');
SELECT invoicing.add_invoice_line('in_fin7', 1500) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_fin7')->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_fin7';
SELECT type, amount, ending_balance, invoice FROM txn WHERE customer = 'cus_fin3' ORDER BY created, amount;
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_fin3';
SELECT * FROM invoicing.check_invariants();

-- A debit balance (positive) is added to amount_due: B = +700, total 1000:
-- amount_due 1700, ending_balance 0, applied_to_invoice -700.  A balance in
-- another currency is not used.
SELECT invoicing.create_customer(id => 'cus_fin4');
SELECT (invoicing.adjust_customer_balance('cus_fin4', 'usd', 700))->>'ending_balance' AS balance;
SELECT (invoicing.adjust_customer_balance('cus_fin4', 'eur', -300))->>'ending_balance' AS balance;
SELECT invoicing.create_invoice('cus_fin4', 'usd', id => 'in_fin8');
SELECT invoicing.add_invoice_line('in_fin8', 1000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_fin8')->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_fin8';
SELECT currency, type, amount, ending_balance, invoice FROM txn WHERE customer = 'cus_fin4'
 ORDER BY created, currency, amount;
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_fin4' ORDER BY currency;
-- a debit balance with a total of 0: amount_due = B, still open
SELECT (invoicing.adjust_customer_balance('cus_fin4', 'usd', 250))->>'ending_balance' AS balance;
SELECT invoicing.create_invoice('cus_fin4', 'usd', id => 'in_fin9');
SELECT invoicing.finalize_invoice('in_fin9')->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_fin9';
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_fin4' ORDER BY currency;
SELECT * FROM invoicing.check_invariants();

-- Finalizing by DML (UPDATE status = 'open') is the same rule F.
SELECT invoicing.create_invoice('cus_fin4', 'eur', 'charge_automatically', 'in_fin10');
INSERT INTO invoicing.invoice_lines (invoice, unit_amount, quantity) VALUES ('in_fin10', 100, 2);
UPDATE invoicing.invoices SET status = 'open' WHERE id = 'in_fin10';
SELECT * FROM inv WHERE id = 'in_fin10';
SELECT collection_method, number IS NOT NULL AS numbered, finalized_at IS NOT NULL AS finalized_at_set
  FROM invoicing.invoices WHERE id = 'in_fin10';
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_fin4' ORDER BY currency;

-- Numbers: every finalized invoice has one, drafts none, and no two share one.
SELECT id, status, number IS NOT NULL AS numbered FROM invoicing.invoices
 WHERE id LIKE 'in\_fin%' ORDER BY id;
SELECT count(number) = count(DISTINCT number) AS numbers_unique FROM invoicing.invoices;

-- An invoice for a customer that does not exist: P0002.
SELECT pg_temp.fp('fin') AS fp \gset
SELECT invoicing.create_invoice('cus_fin_missing', 'usd', id => 'in_fin11');
SELECT invoicing.add_invoice_line('in_fin_missing', 100);
SELECT invoicing.finalize_invoice('in_fin_missing');
SELECT pg_temp.fp('fin') = :'fp' AS unchanged;
SELECT count(*) AS invoices FROM invoicing.invoices WHERE id = 'in_fin11';

SELECT * FROM invoicing.check_invariants();
