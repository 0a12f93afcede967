-- core_derived: writes to derived columns are refused whoever makes them
-- (23514), on every table: invoices (amounts, timestamps, status paid),
-- invoice lines (amount), invoice payments (status, amount_paid, paid_at,
-- canceled_at), customer balances, balance transactions (types only the
-- extension records, ending_balance, amount).  Each refused write changes
-- nothing.  Ids carry "drv".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\i test/sql/include/core_helpers.psql

SELECT invoicing.create_customer(id => 'cus_drv1');
SELECT (invoicing.adjust_customer_balance('cus_drv1', 'eur', -500))->>'amount' AS amount;
SELECT invoicing.create_invoice('cus_drv1', 'usd', id => 'in_drv1');
SELECT invoicing.add_invoice_line('in_drv1', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_drv1')->>'status' AS status;
SELECT invoicing.create_payment_intent('cus_drv1', 'usd', 3000, 'succeeded', 'pi_drv1a');
SELECT invoicing.attach_payment('in_drv1', 'pi_drv1a') IS NOT NULL AS attached;
SELECT invoicing.create_payment_intent('cus_drv1', 'usd', 1000, id => 'pi_drv1b');
SELECT invoicing.attach_payment('in_drv1', 'pi_drv1b') IS NOT NULL AS attached;
SELECT invoicing.create_invoice('cus_drv1', 'usd', id => 'in_drv2');
SELECT invoicing.add_invoice_line('in_drv2', 700, description => 'draft line') IS NOT NULL AS added;
SELECT * FROM inv WHERE id IN ('in_drv1', 'in_drv2') ORDER BY id;
SELECT payment_intent, status, amount_requested, amount_paid, paid_at_set, canceled_at_set
  FROM pay WHERE invoice = 'in_drv1' ORDER BY payment_intent;
SELECT * FROM invoicing.check_invariants();

-- Invoices: every derived column, on an open invoice and on a draft.
SELECT pg_temp.fp('drv') AS fp \gset
UPDATE invoicing.invoices SET amount_paid = 10000 WHERE id = 'in_drv1';
UPDATE invoicing.invoices SET amount_due = 1 WHERE id = 'in_drv1';
UPDATE invoicing.invoices SET amount_remaining = 0 WHERE id = 'in_drv1';
UPDATE invoicing.invoices SET amount_overpaid = 5 WHERE id = 'in_drv1';
UPDATE invoicing.invoices SET total = 1 WHERE id = 'in_drv1';
UPDATE invoicing.invoices SET subtotal = 1 WHERE id = 'in_drv1';
UPDATE invoicing.invoices SET starting_balance = -100 WHERE id = 'in_drv1';
UPDATE invoicing.invoices SET ending_balance = -100 WHERE id = 'in_drv1';
UPDATE invoicing.invoices SET pre_payment_credit_notes_amount = 100 WHERE id = 'in_drv1';
UPDATE invoicing.invoices SET post_payment_credit_notes_amount = 100 WHERE id = 'in_drv1';
UPDATE invoicing.invoices SET finalized_at = now() - interval '1 day' WHERE id = 'in_drv1';
UPDATE invoicing.invoices SET paid_at = now() WHERE id = 'in_drv1';
UPDATE invoicing.invoices SET voided_at = now() WHERE id = 'in_drv1';
UPDATE invoicing.invoices SET marked_uncollectible_at = now() WHERE id = 'in_drv1';
-- setting an invoice paid directly is a write to a derived value
UPDATE invoicing.invoices SET status = 'paid' WHERE id = 'in_drv1';
UPDATE invoicing.invoices SET status = 'paid', amount_paid = 10000, amount_remaining = 0 WHERE id = 'in_drv1';
UPDATE invoicing.invoices SET status = 'paid' WHERE id = 'in_drv2';
UPDATE invoicing.invoices SET total = 701 WHERE id = 'in_drv2';
UPDATE invoicing.invoices SET amount_due = 0 WHERE id = 'in_drv2';
UPDATE invoicing.invoices SET ending_balance = 0 WHERE id = 'in_drv2';
-- a new invoice cannot bring derived values either
INSERT INTO invoicing.invoices (id, customer, currency, total) VALUES ('in_drv3', 'cus_drv1', 'usd', 100);
INSERT INTO invoicing.invoices (id, customer, currency, amount_paid) VALUES ('in_drv3', 'cus_drv1', 'usd', 100);
INSERT INTO invoicing.invoices (id, customer, currency, paid_at) VALUES ('in_drv3', 'cus_drv1', 'usd', now());
INSERT INTO invoicing.invoices (id, customer, currency, status) VALUES ('in_drv3', 'cus_drv1', 'usd', 'paid');
SELECT pg_temp.fp('drv') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id LIKE 'in\_drv%' ORDER BY id;
SELECT id, paid_at IS NULL AS not_paid, voided_at IS NULL AS not_voided,
       marked_uncollectible_at IS NULL AS not_marked
  FROM invoicing.invoices WHERE id LIKE 'in\_drv%' ORDER BY id;

-- Invoice lines: amount is quantity * unit_amount.
INSERT INTO invoicing.invoice_lines (invoice, unit_amount, amount) VALUES ('in_drv2', 100, 500);
UPDATE invoicing.invoice_lines SET amount = 1 WHERE invoice = 'in_drv2';
UPDATE invoicing.invoice_lines SET amount = 1 WHERE invoice = 'in_drv1';
SELECT pg_temp.fp('drv') = :'fp' AS unchanged;
SELECT invoice, quantity, unit_amount, amount FROM invoicing.invoice_lines
 WHERE invoice LIKE 'in\_drv%' ORDER BY invoice;

-- Invoice payments: status, amount_paid, paid_at and canceled_at follow the
-- PaymentIntent.
UPDATE invoicing.invoice_payments SET status = 'paid' WHERE payment_intent = 'pi_drv1b';
UPDATE invoicing.invoice_payments SET status = 'paid', amount_paid = 1000, paid_at = now()
 WHERE payment_intent = 'pi_drv1b';
UPDATE invoicing.invoice_payments SET status = 'canceled' WHERE payment_intent = 'pi_drv1b';
UPDATE invoicing.invoice_payments SET amount_paid = 1000 WHERE payment_intent = 'pi_drv1b';
UPDATE invoicing.invoice_payments SET canceled_at = now() WHERE payment_intent = 'pi_drv1b';
UPDATE invoicing.invoice_payments SET status = 'open' WHERE payment_intent = 'pi_drv1a';
UPDATE invoicing.invoice_payments SET amount_paid = 1 WHERE payment_intent = 'pi_drv1a';
UPDATE invoicing.invoice_payments SET amount_paid = NULL WHERE payment_intent = 'pi_drv1a';
UPDATE invoicing.invoice_payments SET paid_at = now() - interval '1 day' WHERE payment_intent = 'pi_drv1a';
INSERT INTO invoicing.invoice_payments (invoice, payment_type, amount_requested, status, amount_paid)
VALUES ('in_drv1', 'payment_record', 100, 'paid', 100);
INSERT INTO invoicing.invoice_payments (invoice, payment_type, amount_requested, amount_paid)
VALUES ('in_drv1', 'payment_record', 100, 100);
SELECT pg_temp.fp('drv') = :'fp' AS unchanged;
SELECT payment_intent, status, amount_requested, amount_paid, paid_at_set, canceled_at_set
  FROM pay WHERE invoice = 'in_drv1' ORDER BY payment_intent;
-- paid payments are never deleted (55000)
DELETE FROM invoicing.invoice_payments WHERE payment_intent = 'pi_drv1a';
SELECT pg_temp.fp('drv') = :'fp' AS unchanged;

-- Customer balances are the sum of the transactions.
UPDATE invoicing.customer_balances SET balance = 0 WHERE customer = 'cus_drv1';
INSERT INTO invoicing.customer_balances (customer, currency, balance) VALUES ('cus_drv1', 'gbp', -100);
DELETE FROM invoicing.customer_balances WHERE customer = 'cus_drv1';
-- Balance transactions: the types the extension records, ending_balance,
-- and the amount of a recorded transaction.
INSERT INTO invoicing.customer_balance_transactions (customer, currency, amount, type, invoice)
VALUES ('cus_drv1', 'usd', 100, 'applied_to_invoice', 'in_drv1');
INSERT INTO invoicing.customer_balance_transactions (customer, currency, amount, type)
VALUES ('cus_drv1', 'usd', 100, 'applied_to_invoice');
INSERT INTO invoicing.customer_balance_transactions (customer, currency, amount, type, invoice)
VALUES ('cus_drv1', 'usd', -100, 'unapplied_from_invoice', 'in_drv1');
INSERT INTO invoicing.customer_balance_transactions (customer, currency, amount, type, invoice)
VALUES ('cus_drv1', 'usd', -100, 'invoice_overpaid', 'in_drv1');
INSERT INTO invoicing.customer_balance_transactions (customer, currency, amount, type)
VALUES ('cus_drv1', 'usd', -100, 'credit_note');
INSERT INTO invoicing.customer_balance_transactions (customer, currency, amount, ending_balance)
VALUES ('cus_drv1', 'eur', -100, -600);
UPDATE invoicing.customer_balance_transactions SET ending_balance = 0 WHERE customer = 'cus_drv1';
UPDATE invoicing.customer_balance_transactions SET amount = -400 WHERE customer = 'cus_drv1';
UPDATE invoicing.customer_balance_transactions SET type = 'applied_to_invoice' WHERE customer = 'cus_drv1';
SELECT pg_temp.fp('drv') = :'fp' AS unchanged;
SELECT currency, balance FROM invoicing.customer_balances
 WHERE customer = 'cus_drv1' AND currency = 'eur';
SELECT currency, type, amount, ending_balance, invoice FROM txn WHERE customer = 'cus_drv1'
 ORDER BY created, currency, amount;
SELECT * FROM invoicing.check_invariants();

-- What may be written still works: a draft's lines (total follows) and the
-- invoice's own fields.
UPDATE invoicing.invoice_lines SET unit_amount = 800 WHERE invoice = 'in_drv2';
UPDATE invoicing.invoices SET description = 'edited', metadata = '{"k": "v"}' WHERE id = 'in_drv2';
SELECT id, status, total, amount_due, description, metadata FROM invoicing.invoices WHERE id = 'in_drv2';
SELECT * FROM invoicing.check_invariants();
