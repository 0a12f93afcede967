-- core_invariants: check_invariants() recomputes every derived value from the
-- base rows.  Each derived value is corrupted with the extension's triggers
-- disabled, check_invariants() must report it (naming the object), and it is
-- repaired the same way so that later tests see a clean database.  Each
-- corruption and repair is one transaction, so a failure cannot leave the
-- triggers disabled.  Ids carry "chk".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\i test/sql/include/core_helpers.psql
-- reported: some mismatch names one of the objects; others: mismatches that
-- name none of them
CREATE FUNCTION pg_temp.report(VARIADIC objs text[])
RETURNS TABLE (reported boolean, others bigint) LANGUAGE sql AS $$
  SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM unnest(objs) o WHERE strpos(c.object_id, o) > 0)) > 0,
         count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM unnest(objs) o WHERE strpos(c.object_id, o) > 0))
    FROM invoicing.check_invariants() c
$$;

SELECT invoicing.create_customer(id => 'cus_chk1');
SELECT (invoicing.adjust_customer_balance('cus_chk1', 'usd', -1000))->>'amount' AS amount;
SELECT (invoicing.adjust_customer_balance('cus_chk1', 'usd', 400))->>'amount' AS amount;
SELECT invoicing.create_invoice('cus_chk1', 'usd', id => 'in_chk1');
SELECT invoicing.add_invoice_line('in_chk1', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_chk1')->>'status' AS status;
SELECT invoicing.create_payment_intent('cus_chk1', 'usd', 3000, 'succeeded', 'pi_chk1a');
SELECT invoicing.attach_payment('in_chk1', 'pi_chk1a') IS NOT NULL AS attached;
SELECT invoicing.create_payment_intent('cus_chk1', 'usd', 2000, id => 'pi_chk1b');
SELECT invoicing.attach_payment('in_chk1', 'pi_chk1b') IS NOT NULL AS attached;
SELECT invoicing.create_invoice('cus_chk1', 'usd', id => 'in_chk2');
SELECT invoicing.add_invoice_line('in_chk2', 700) IS NOT NULL AS added;
SELECT invoicing.create_invoice('cus_chk1', 'usd', id => 'in_chk3');
SELECT invoicing.add_invoice_line('in_chk3', 500) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_chk3')->>'status' AS status;
SELECT (invoicing.pay_invoice('in_chk3'))->>'status' AS status;
SELECT * FROM inv WHERE id LIKE 'in\_chk%' ORDER BY id;
SELECT payment_intent, status, amount_requested, amount_paid FROM pay
 WHERE invoice = 'in_chk1' ORDER BY payment_intent;
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_chk1';
SELECT id AS paid_pay FROM invoicing.invoice_payments WHERE payment_intent = 'pi_chk1a' \gset
SELECT id AS open_pay FROM invoicing.invoice_payments WHERE payment_intent = 'pi_chk1b' \gset
SELECT * FROM invoicing.check_invariants();

-- invariant 1: total, subtotal, a line's amount
BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET total = 10001 WHERE id = 'in_chk1';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM pg_temp.report('in_chk1');
BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET total = 10000 WHERE id = 'in_chk1';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM invoicing.check_invariants();

BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET subtotal = 9999 WHERE id = 'in_chk2';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM pg_temp.report('in_chk2');
BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET subtotal = 700 WHERE id = 'in_chk2';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM invoicing.check_invariants();

BEGIN;
ALTER TABLE invoicing.invoice_lines DISABLE TRIGGER USER;
UPDATE invoicing.invoice_lines SET amount = 701 WHERE invoice = 'in_chk2';
ALTER TABLE invoicing.invoice_lines ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM pg_temp.report('in_chk2', 'il_');
BEGIN;
ALTER TABLE invoicing.invoice_lines DISABLE TRIGGER USER;
UPDATE invoicing.invoice_lines SET amount = 700 WHERE invoice = 'in_chk2';
ALTER TABLE invoicing.invoice_lines ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM invoicing.check_invariants();

-- invariant 2: a draft's amount_due and ending_balance
BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET amount_due = 0 WHERE id = 'in_chk2';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM pg_temp.report('in_chk2');
BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET amount_due = 700 WHERE id = 'in_chk2';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM invoicing.check_invariants();

BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET ending_balance = 0 WHERE id = 'in_chk2';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM pg_temp.report('in_chk2');
BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET ending_balance = NULL WHERE id = 'in_chk2';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM invoicing.check_invariants();

-- invariant 2 (finalized): amount_due = max(0, total + starting_balance) - PRE
BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET amount_due = 10000 WHERE id = 'in_chk1';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM pg_temp.report('in_chk1');
BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET amount_due = 9400 WHERE id = 'in_chk1';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM invoicing.check_invariants();

-- invariant 3: amount_paid, amount_remaining, amount_overpaid
BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET amount_paid = 3001 WHERE id = 'in_chk1';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM pg_temp.report('in_chk1');
BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET amount_paid = 3000 WHERE id = 'in_chk1';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM invoicing.check_invariants();

BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET amount_remaining = 6401 WHERE id = 'in_chk1';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM pg_temp.report('in_chk1');
BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET amount_remaining = 6400 WHERE id = 'in_chk1';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM invoicing.check_invariants();

BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET amount_overpaid = 1 WHERE id = 'in_chk1';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM pg_temp.report('in_chk1');
BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET amount_overpaid = 0 WHERE id = 'in_chk1';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM invoicing.check_invariants();

-- invariant 3 through a payment: a paid payment's amount_paid
BEGIN;
ALTER TABLE invoicing.invoice_payments DISABLE TRIGGER USER;
UPDATE invoicing.invoice_payments SET amount_paid = 2999 WHERE id = :'paid_pay';
ALTER TABLE invoicing.invoice_payments ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM pg_temp.report('in_chk1', :'paid_pay');
BEGIN;
ALTER TABLE invoicing.invoice_payments DISABLE TRIGGER USER;
UPDATE invoicing.invoice_payments SET amount_paid = 3000 WHERE id = :'paid_pay';
ALTER TABLE invoicing.invoice_payments ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM invoicing.check_invariants();

-- invariant 6: amount_paid is NULL exactly when the payment is not paid
BEGIN;
ALTER TABLE invoicing.invoice_payments DISABLE TRIGGER USER;
UPDATE invoicing.invoice_payments SET amount_paid = 0 WHERE id = :'open_pay';
ALTER TABLE invoicing.invoice_payments ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM pg_temp.report(:'open_pay');
BEGIN;
ALTER TABLE invoicing.invoice_payments DISABLE TRIGGER USER;
UPDATE invoicing.invoice_payments SET amount_paid = NULL WHERE id = :'open_pay';
ALTER TABLE invoicing.invoice_payments ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM invoicing.check_invariants();

BEGIN;
ALTER TABLE invoicing.invoice_payments DISABLE TRIGGER USER;
UPDATE invoicing.invoice_payments SET status = 'open', amount_paid = NULL, paid_at = NULL
 WHERE id = :'paid_pay';
ALTER TABLE invoicing.invoice_payments ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM pg_temp.report('in_chk1', :'paid_pay');
BEGIN;
ALTER TABLE invoicing.invoice_payments DISABLE TRIGGER USER;
UPDATE invoicing.invoice_payments SET status = 'paid', amount_paid = 3000,
       paid_at = (SELECT created FROM invoicing.invoice_payments WHERE id = :'paid_pay')
 WHERE id = :'paid_pay';
ALTER TABLE invoicing.invoice_payments ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM invoicing.check_invariants();

-- invariant 7: status paid exactly when finalized, not void and nothing remains
BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET status = 'paid' WHERE id = 'in_chk1';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM pg_temp.report('in_chk1');
BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET status = 'open' WHERE id = 'in_chk1';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM invoicing.check_invariants();

BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET status = 'open' WHERE id = 'in_chk3';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM pg_temp.report('in_chk3');
BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET status = 'paid' WHERE id = 'in_chk3';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM invoicing.check_invariants();

SELECT paid_at AS chk3_paid_at FROM invoicing.invoices WHERE id = 'in_chk3' \gset
BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET paid_at = NULL WHERE id = 'in_chk3';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM pg_temp.report('in_chk3');
BEGIN;
ALTER TABLE invoicing.invoices DISABLE TRIGGER USER;
UPDATE invoicing.invoices SET paid_at = :'chk3_paid_at' WHERE id = 'in_chk3';
ALTER TABLE invoicing.invoices ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM invoicing.check_invariants();

-- invariant 8: the balance is the sum of the transactions, and each
-- transaction's ending_balance is the running balance
BEGIN;
ALTER TABLE invoicing.customer_balances DISABLE TRIGGER USER;
UPDATE invoicing.customer_balances SET balance = balance - 1 WHERE customer = 'cus_chk1' AND currency = 'usd';
ALTER TABLE invoicing.customer_balances ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM pg_temp.report('cus_chk1');
BEGIN;
ALTER TABLE invoicing.customer_balances DISABLE TRIGGER USER;
UPDATE invoicing.customer_balances SET balance = balance + 1 WHERE customer = 'cus_chk1' AND currency = 'usd';
ALTER TABLE invoicing.customer_balances ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM invoicing.check_invariants();

BEGIN;
ALTER TABLE invoicing.customer_balance_transactions DISABLE TRIGGER USER;
UPDATE invoicing.customer_balance_transactions SET ending_balance = -999
 WHERE customer = 'cus_chk1' AND amount = -1000;
ALTER TABLE invoicing.customer_balance_transactions ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM pg_temp.report('cus_chk1', 'cbtxn_');
BEGIN;
ALTER TABLE invoicing.customer_balance_transactions DISABLE TRIGGER USER;
UPDATE invoicing.customer_balance_transactions SET ending_balance = -1000
 WHERE customer = 'cus_chk1' AND amount = -1000;
ALTER TABLE invoicing.customer_balance_transactions ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM invoicing.check_invariants();

BEGIN;
ALTER TABLE invoicing.customer_balance_transactions DISABLE TRIGGER USER;
UPDATE invoicing.customer_balance_transactions SET amount = 401
 WHERE customer = 'cus_chk1' AND amount = 400;
ALTER TABLE invoicing.customer_balance_transactions ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM pg_temp.report('cus_chk1', 'cbtxn_');
BEGIN;
ALTER TABLE invoicing.customer_balance_transactions DISABLE TRIGGER USER;
UPDATE invoicing.customer_balance_transactions SET amount = 400
 WHERE customer = 'cus_chk1' AND amount = 401;
ALTER TABLE invoicing.customer_balance_transactions ENABLE TRIGGER USER;
COMMIT;
SELECT * FROM invoicing.check_invariants();

-- The repaired objects are exactly as before, and the triggers are back.
SELECT * FROM inv WHERE id LIKE 'in\_chk%' ORDER BY id;
SELECT payment_intent, status, amount_requested, amount_paid, paid_at_set FROM pay
 WHERE invoice = 'in_chk1' ORDER BY payment_intent;
SELECT type, amount, ending_balance, invoice FROM txn WHERE customer = 'cus_chk1' ORDER BY created, amount;
SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'invoicing' AND NOT t.tgisinternal AND t.tgenabled <> 'O';
UPDATE invoicing.invoices SET amount_paid = 1 WHERE id = 'in_chk1';
