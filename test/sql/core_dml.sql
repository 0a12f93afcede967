-- core_dml: direct-DML equivalence (SPEC 3).  The same scenario is run twice:
-- customer cus_dml1 through the functions, customer cus_dml2 through plain
-- INSERT / UPDATE on the tables.  Both must give the same invoices, payments,
-- PaymentIntents and balance transactions; DML errors are the functions'.
-- Ids carry "dml".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\i test/sql/include/core_helpers.psql
-- one row per object of a path, with the path's tag taken out of the ids
CREATE TEMP VIEW dml_state AS
  SELECT 'invoice' AS kind, replace(replace(id, 'dml1', 'dmlN'), 'dml2', 'dmlN') AS key,
         format('%s total=%s due=%s paid=%s remaining=%s overpaid=%s start=%s end=%s numbered=%s finalized=%s paid_at=%s voided=%s marked=%s method=%s',
                status, total, amount_due, amount_paid, amount_remaining, amount_overpaid,
                starting_balance, ending_balance, number IS NOT NULL, finalized_at IS NOT NULL,
                paid_at IS NOT NULL, voided_at IS NOT NULL, marked_uncollectible_at IS NOT NULL,
                collection_method) AS state,
         CASE WHEN customer = 'cus_dml1' THEN 'functions' ELSE 'dml' END AS path
    FROM invoicing.invoices WHERE customer IN ('cus_dml1', 'cus_dml2')
  UNION ALL
  SELECT 'line', replace(replace(invoice, 'dml1', 'dmlN'), 'dml2', 'dmlN') || ' ' || unit_amount || 'x' || quantity,
         format('amount=%s description=%s', amount, description),
         CASE WHEN invoice LIKE 'in\_dml1%' THEN 'functions' ELSE 'dml' END
    FROM invoicing.invoice_lines WHERE invoice LIKE 'in\_dml%'
  UNION ALL
  SELECT 'payment_intent', replace(replace(id, 'dml1', 'dmlN'), 'dml2', 'dmlN'),
         format('%s amount=%s received=%s currency=%s', status, amount, amount_received, currency),
         CASE WHEN customer = 'cus_dml1' THEN 'functions' ELSE 'dml' END
    FROM invoicing.payment_intents WHERE customer IN ('cus_dml1', 'cus_dml2')
  UNION ALL
  SELECT 'payment', replace(replace(invoice, 'dml1', 'dmlN'), 'dml2', 'dmlN') || ' '
         || coalesce(replace(replace(payment_intent, 'dml1', 'dmlN'), 'dml2', 'dmlN'), 'record ' || amount_requested),
         format('%s %s requested=%s paid=%s reference=%s currency=%s default=%s paid_at=%s canceled_at=%s record=%s',
                payment_type, status, amount_requested, amount_paid, reference, currency, is_default,
                paid_at IS NOT NULL, canceled_at IS NOT NULL, payment_record LIKE 'prec\_%'),
         CASE WHEN invoice LIKE 'in\_dml1%' THEN 'functions' ELSE 'dml' END
    FROM invoicing.invoice_payments WHERE invoice LIKE 'in\_dml%'
  UNION ALL
  SELECT 'transaction', replace(replace(coalesce(invoice, '-'), 'dml1', 'dmlN'), 'dml2', 'dmlN') || ' ' || type || ' ' || amount,
         format('%s ending=%s description=%s', currency, ending_balance, description),
         CASE WHEN customer = 'cus_dml1' THEN 'functions' ELSE 'dml' END
    FROM invoicing.customer_balance_transactions WHERE customer IN ('cus_dml1', 'cus_dml2')
  UNION ALL
  SELECT 'balance', currency, balance::text,
         CASE WHEN customer = 'cus_dml1' THEN 'functions' ELSE 'dml' END
    FROM invoicing.customer_balances WHERE customer IN ('cus_dml1', 'cus_dml2');
-- what one path has and the other has not (no rows: the same)
CREATE TEMP VIEW dml_diff AS
  (SELECT 'functions only' AS side, kind, key, state FROM dml_state WHERE path = 'functions'
   EXCEPT ALL SELECT 'functions only', kind, key, state FROM dml_state WHERE path = 'dml')
  UNION ALL
  (SELECT 'dml only', kind, key, state FROM dml_state WHERE path = 'dml'
   EXCEPT ALL SELECT 'dml only', kind, key, state FROM dml_state WHERE path = 'functions');

-- 1. customer with a 1000 credit
SELECT invoicing.create_customer('dml@example.com', 'Dml', 'cus_dml1');
INSERT INTO invoicing.customers (id, email, name) VALUES ('cus_dml2', 'dml@example.com', 'Dml');
SELECT (invoicing.adjust_customer_balance('cus_dml1', 'usd', -1000, 'credit'))->>'amount' AS amount;
INSERT INTO invoicing.customer_balance_transactions (customer, currency, amount, description)
VALUES ('cus_dml2', 'usd', -1000, 'credit');
SELECT * FROM dml_diff;

-- 2. a draft with two lines
SELECT invoicing.create_invoice('cus_dml1', 'usd', id => 'in_dml1a');
INSERT INTO invoicing.invoices (id, customer, currency) VALUES ('in_dml2a', 'cus_dml2', 'usd');
SELECT invoicing.add_invoice_line('in_dml1a', 6000, description => 'six') IS NOT NULL AS added;
SELECT invoicing.add_invoice_line('in_dml1a', 2000, 2) IS NOT NULL AS added;
INSERT INTO invoicing.invoice_lines (invoice, unit_amount, description) VALUES ('in_dml2a', 6000, 'six');
INSERT INTO invoicing.invoice_lines (invoice, unit_amount, quantity) VALUES ('in_dml2a', 2000, 2);
SELECT * FROM inv WHERE id IN ('in_dml1a', 'in_dml2a') ORDER BY id;
SELECT * FROM dml_diff;

-- 3. finalize: finalize_invoice / UPDATE status = 'open'
SELECT invoicing.finalize_invoice('in_dml1a')->>'status' AS status;
UPDATE invoicing.invoices SET status = 'open' WHERE id = 'in_dml2a';
SELECT * FROM inv WHERE id IN ('in_dml1a', 'in_dml2a') ORDER BY id;
SELECT * FROM dml_diff;

-- 4. attach: attach_payment / INSERT INTO invoice_payments (invoice, payment_intent)
SELECT invoicing.create_payment_intent('cus_dml1', 'usd', 3000, id => 'pi_dml1a');
INSERT INTO invoicing.payment_intents (id, customer, currency, amount) VALUES ('pi_dml2a', 'cus_dml2', 'usd', 3000);
SELECT invoicing.attach_payment('in_dml1a', 'pi_dml1a') IS NOT NULL AS attached;
INSERT INTO invoicing.invoice_payments (invoice, payment_intent) VALUES ('in_dml2a', 'pi_dml2a');
SELECT invoice, payment_type, payment_intent, status, amount_requested, amount_paid FROM pay
 WHERE invoice IN ('in_dml1a', 'in_dml2a') ORDER BY invoice, payment_intent;
SELECT * FROM dml_diff;
-- attaching again to the same invoice changes nothing, either way
SELECT pg_temp.fp('dml') AS fp \gset
SELECT invoicing.attach_payment('in_dml1a', 'pi_dml1a') IS NOT NULL AS returned;
INSERT INTO invoicing.invoice_payments (invoice, payment_intent) VALUES ('in_dml2a', 'pi_dml2a');
SELECT pg_temp.fp('dml') = :'fp' AS unchanged;

-- 5. success: update_payment_intent / UPDATE payment_intents SET status = 'succeeded'
SELECT (invoicing.update_payment_intent('pi_dml1a', 'succeeded'))->>'status' AS status;
UPDATE invoicing.payment_intents SET status = 'succeeded' WHERE id = 'pi_dml2a';
SELECT * FROM inv WHERE id IN ('in_dml1a', 'in_dml2a') ORDER BY id;
SELECT * FROM dml_diff;

-- 6. a PaymentIntent attached then canceled
SELECT invoicing.create_payment_intent('cus_dml1', 'usd', 2000, id => 'pi_dml1b');
INSERT INTO invoicing.payment_intents (id, customer, currency, amount) VALUES ('pi_dml2b', 'cus_dml2', 'usd', 2000);
SELECT invoicing.attach_payment('in_dml1a', 'pi_dml1b') IS NOT NULL AS attached;
INSERT INTO invoicing.invoice_payments (invoice, payment_intent) VALUES ('in_dml2a', 'pi_dml2b');
SELECT (invoicing.update_payment_intent('pi_dml1b', 'canceled'))->>'status' AS status;
UPDATE invoicing.payment_intents SET status = 'canceled' WHERE id = 'pi_dml2b';
SELECT * FROM dml_diff;

-- 7. a partial success: 3500 received of 4000
SELECT invoicing.create_payment_intent('cus_dml1', 'usd', 4000, 'processing', 'pi_dml1c');
INSERT INTO invoicing.payment_intents (id, customer, currency, amount, status)
VALUES ('pi_dml2c', 'cus_dml2', 'usd', 4000, 'processing');
SELECT invoicing.attach_payment('in_dml1a', 'pi_dml1c') IS NOT NULL AS attached;
INSERT INTO invoicing.invoice_payments (invoice, payment_intent) VALUES ('in_dml2a', 'pi_dml2c');
SELECT (invoicing.update_payment_intent('pi_dml1c', 'succeeded', 3500))->>'status' AS status;
UPDATE invoicing.payment_intents SET status = 'succeeded', amount_received = 3500 WHERE id = 'pi_dml2c';
SELECT * FROM inv WHERE id IN ('in_dml1a', 'in_dml2a') ORDER BY id;
SELECT * FROM dml_diff;

-- 8. out of band: attach_out_of_band_payment / INSERT of a payment_record payment
SELECT (invoicing.attach_out_of_band_payment('in_dml1a', 1000, 'cheque 12'))->>'amount_paid' AS amount_paid;
INSERT INTO invoicing.invoice_payments (invoice, payment_type, amount_requested, reference)
VALUES ('in_dml2a', 'payment_record', 1000, 'cheque 12');
SELECT * FROM inv WHERE id IN ('in_dml1a', 'in_dml2a') ORDER BY id;
SELECT * FROM dml_diff;

-- DML gets the functions' errors, and they change nothing: an amount above
-- amount_remaining (22023), a PaymentIntent attached elsewhere (23505), a
-- draft (55000), zero out of band (22023), a final PaymentIntent (55000), a
-- missing invoice or PaymentIntent (P0002).
INSERT INTO invoicing.invoices (id, customer, currency) VALUES ('in_dml2b', 'cus_dml2', 'usd');
INSERT INTO invoicing.payment_intents (id, customer, currency, amount) VALUES ('pi_dml2d', 'cus_dml2', 'usd', 9000);
SELECT pg_temp.fp('dml') AS fp \gset
INSERT INTO invoicing.invoice_payments (invoice, payment_intent) VALUES ('in_dml2a', 'pi_dml2d');
INSERT INTO invoicing.invoice_payments (invoice, payment_intent) VALUES ('in_dml2b', 'pi_dml2a');
INSERT INTO invoicing.invoice_payments (invoice, payment_intent) VALUES ('in_dml2b', 'pi_dml2d');
INSERT INTO invoicing.invoice_payments (invoice, payment_type, amount_requested)
VALUES ('in_dml2a', 'payment_record', 0);
INSERT INTO invoicing.invoice_payments (invoice, payment_type, amount_requested)
VALUES ('in_dml2a', 'payment_record', 1501);
INSERT INTO invoicing.invoice_payments (invoice, payment_type, amount_requested)
VALUES ('in_dml2b', 'payment_record', 100);
UPDATE invoicing.payment_intents SET status = 'processing' WHERE id = 'pi_dml2a';
INSERT INTO invoicing.invoice_payments (invoice, payment_intent) VALUES ('in_dml_missing', 'pi_dml2d');
INSERT INTO invoicing.invoice_payments (invoice, payment_intent) VALUES ('in_dml2a', 'pi_dml_missing');
SELECT pg_temp.fp('dml') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id IN ('in_dml2a', 'in_dml2b') ORDER BY id;
DELETE FROM invoicing.invoices WHERE id = 'in_dml2b';
DELETE FROM invoicing.payment_intents WHERE id = 'pi_dml2d';

-- 9. pay the rest: pay_invoice / INSERT of a payment_record for amount_remaining
SELECT (invoicing.pay_invoice('in_dml1a'))->>'status' AS status;
INSERT INTO invoicing.invoice_payments (invoice, payment_type, amount_requested)
SELECT id, 'payment_record', amount_remaining FROM invoicing.invoices WHERE id = 'in_dml2a';
SELECT * FROM inv WHERE id IN ('in_dml1a', 'in_dml2a') ORDER BY id;
SELECT * FROM dml_diff;

-- 10. mark_uncollectible / UPDATE status = 'uncollectible', then
-- void_invoice / UPDATE status = 'void' (an invoice that used no balance
-- and one that did)
SELECT (invoicing.adjust_customer_balance('cus_dml1', 'usd', 300))->>'amount' AS amount;
INSERT INTO invoicing.customer_balance_transactions (customer, currency, amount) VALUES ('cus_dml2', 'usd', 300);
SELECT invoicing.create_invoice('cus_dml1', 'usd', 'charge_automatically', 'in_dml1c');
INSERT INTO invoicing.invoices (id, customer, currency, collection_method)
VALUES ('in_dml2c', 'cus_dml2', 'usd', 'charge_automatically');
SELECT invoicing.add_invoice_line('in_dml1c', 500) IS NOT NULL AS added;
INSERT INTO invoicing.invoice_lines (invoice, unit_amount) VALUES ('in_dml2c', 500);
SELECT invoicing.finalize_invoice('in_dml1c')->>'status' AS status;
UPDATE invoicing.invoices SET status = 'open' WHERE id = 'in_dml2c';
SELECT (invoicing.mark_uncollectible('in_dml1c'))->>'status' AS status;
UPDATE invoicing.invoices SET status = 'uncollectible' WHERE id = 'in_dml2c';
SELECT * FROM inv WHERE id IN ('in_dml1c', 'in_dml2c') ORDER BY id;
SELECT * FROM dml_diff;
SELECT (invoicing.void_invoice('in_dml1c'))->>'status' AS status;
UPDATE invoicing.invoices SET status = 'void' WHERE id = 'in_dml2c';
SELECT * FROM inv WHERE id IN ('in_dml1c', 'in_dml2c') ORDER BY id;
SELECT * FROM dml_diff;

-- The whole state of both paths, side by side.
SELECT kind, key, state, count(*) FILTER (WHERE path = 'functions') AS functions,
       count(*) FILTER (WHERE path = 'dml') AS dml
  FROM dml_state GROUP BY kind, key, state ORDER BY kind, key, state;
SELECT * FROM invoicing.check_invariants();
