-- core_balances: customer balance transactions and balances (invariant 8):
-- adjust_customer_balance and its DML form, running ending_balance per
-- customer and currency, the balance applied at finalization and given back
-- at void, transactions never deleted.  Ids carry "bal".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\i test/sql/include/core_helpers.psql

SELECT invoicing.create_customer('bal1@example.com', 'Bal One', 'cus_bal1');
SELECT invoicing.create_customer(id => 'cus_bal2');
-- no transaction yet: no balance row
SELECT count(*) AS balances FROM invoicing.customer_balances WHERE customer = 'cus_bal1';

-- adjust_customer_balance records an adjustment (negative = credit) and
-- returns it; the balance is the running sum, per currency.
SELECT j->>'object' AS object, j->>'type' AS type, j->>'amount' AS amount,
       j->>'ending_balance' AS ending_balance, j->>'currency' AS currency,
       j->>'customer' AS customer, j->>'description' AS description,
       j->'invoice' = 'null' AS no_invoice, j->>'id' LIKE 'cbtxn\_%' AS cbtxn_id
  FROM invoicing.adjust_customer_balance('cus_bal1', 'usd', -3000, 'goodwill') AS j;
SELECT (invoicing.adjust_customer_balance('cus_bal1', 'usd', 500))->>'ending_balance' AS ending_balance;
SELECT (invoicing.adjust_customer_balance('cus_bal1', 'eur', 1200))->>'ending_balance' AS ending_balance;
-- the DML form: an INSERT of an adjustment
INSERT INTO invoicing.customer_balance_transactions (customer, currency, amount, description)
VALUES ('cus_bal1', 'usd', -250, 'by dml');
INSERT INTO invoicing.customer_balance_transactions (id, customer, currency, amount)
VALUES ('cbtxn_bal1', 'cus_bal1', 'usd', 250);
SELECT ending_balance, type FROM invoicing.customer_balance_transactions WHERE id = 'cbtxn_bal1';
SELECT currency, type, amount, ending_balance, invoice FROM txn WHERE customer = 'cus_bal1'
 ORDER BY created, currency, amount;
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_bal1' ORDER BY currency;
SELECT count(*) AS balances FROM invoicing.customer_balances WHERE customer = 'cus_bal2';
SELECT * FROM invoicing.check_invariants();

-- Errors change nothing: a customer that does not exist (P0002), amount 0
-- (22023), deleting a transaction (55000).
SELECT pg_temp.fp('bal') AS fp \gset
SELECT invoicing.adjust_customer_balance('cus_bal_missing', 'usd', -100);
INSERT INTO invoicing.customer_balance_transactions (customer, currency, amount)
VALUES ('cus_bal_missing', 'usd', -100);
SELECT invoicing.adjust_customer_balance('cus_bal1', 'usd', 0);
INSERT INTO invoicing.customer_balance_transactions (customer, currency, amount)
VALUES ('cus_bal1', 'usd', 0);
DELETE FROM invoicing.customer_balance_transactions WHERE customer = 'cus_bal1';
DELETE FROM invoicing.customer_balance_transactions WHERE id = 'cbtxn_bal1';
SELECT pg_temp.fp('bal') = :'fp' AS unchanged;
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_bal1' ORDER BY currency;
SELECT count(*) AS transactions FROM invoicing.customer_balance_transactions WHERE customer = 'cus_bal1';

-- The usd credit of 2500 pays a 1000 invoice at finalization: amount_due 0,
-- ending_balance -1500, applied_to_invoice +1000.
SELECT invoicing.create_invoice('cus_bal1', 'usd', id => 'in_bal1');
SELECT invoicing.add_invoice_line('in_bal1', 1000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_bal1')->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_bal1';
-- the next one (4000) takes the remaining 1500: amount_due 2500, ending 0
SELECT invoicing.create_invoice('cus_bal1', 'usd', id => 'in_bal2');
SELECT invoicing.add_invoice_line('in_bal2', 4000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_bal2')->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_bal2';
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_bal1' ORDER BY currency;
-- voiding it gives the 1500 back (unapplied_from_invoice -1500)
SELECT (invoicing.void_invoice('in_bal2'))->>'status' AS status;
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_bal1' ORDER BY currency;
-- and a 1500 invoice then uses exactly all of it: amount_due 0, ending 0, paid
SELECT invoicing.create_invoice('cus_bal1', 'usd', id => 'in_bal3');
SELECT invoicing.add_invoice_line('in_bal3', 1500) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_bal3')->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_bal3';
-- the eur debit of 1200 is added to a eur invoice: amount_due 2200
SELECT invoicing.create_invoice('cus_bal1', 'eur', id => 'in_bal4');
SELECT invoicing.add_invoice_line('in_bal4', 1000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_bal4')->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_bal4';
SELECT currency, type, amount, ending_balance, invoice FROM txn WHERE customer = 'cus_bal1'
 ORDER BY created, currency, amount;
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_bal1' ORDER BY currency;
SELECT * FROM invoicing.check_invariants();

-- The JSON of an applied_to_invoice transaction names its invoice.
SELECT j->>'type' AS type, j->>'amount' AS amount, j->>'ending_balance' AS ending_balance,
       j->>'invoice' AS invoice, j->'credit_note' = 'null' AS no_credit_note
  FROM invoicing.customer_balance_transactions t,
       LATERAL invoicing.customer_balance_transaction_json(t.id) AS j
 WHERE t.customer = 'cus_bal1' AND t.type = 'applied_to_invoice' AND t.invoice = 'in_bal1';
-- Transactions the extension recorded cannot be deleted either.
SELECT pg_temp.fp('bal') AS fp \gset
DELETE FROM invoicing.customer_balance_transactions WHERE invoice = 'in_bal1';
SELECT pg_temp.fp('bal') = :'fp' AS unchanged;
SELECT * FROM invoicing.check_invariants();
