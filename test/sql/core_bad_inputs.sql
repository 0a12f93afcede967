-- core_bad_inputs: bad inputs give a clear error with the SQLSTATE of SPEC 5
-- and change nothing: NULL arguments (22004), currencies (22023), zero and
-- negative amounts (22023), amounts near 2^63 (22003, never a wrapped
-- number), unknown enum values (22023), ids with quotes and semicolons
-- (supplied: 22023, looked up: P0002), generate_id's shape, and the
-- messages of a few errors.  Ids carry "bad".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\i test/sql/include/core_helpers.psql
-- SQLSTATE and message of a statement that must fail
CREATE FUNCTION pg_temp.err(stmt text) RETURNS TABLE (sqlstate text, message text)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN QUERY SELECT 'none'::text, 'no error'::text;
EXCEPTION WHEN OTHERS THEN
  RETURN QUERY SELECT SQLSTATE::text, SQLERRM::text;
END
$$;

SELECT invoicing.create_customer(id => 'cus_bad1');
SELECT invoicing.create_invoice('cus_bad1', 'usd', id => 'in_bad1');
SELECT invoicing.add_invoice_line('in_bad1', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_bad1')->>'status' AS status;
SELECT invoicing.create_invoice('cus_bad1', 'usd', id => 'in_bad2');
SELECT invoicing.create_payment_intent('cus_bad1', 'usd', 1000, id => 'pi_bad1');
SELECT (invoicing.adjust_customer_balance('cus_bad1', 'eur', -100))->>'amount' AS amount;
SELECT id AS bad_txn FROM invoicing.customer_balance_transactions WHERE customer = 'cus_bad1' \gset
SELECT * FROM inv WHERE id LIKE 'in\_bad%' ORDER BY id;

-- NULL where a function needs a value: 22004, for every function.
SELECT pg_temp.fp('bad') AS fp \gset
SELECT invoicing.create_invoice(NULL, 'usd');
SELECT invoicing.create_invoice('cus_bad1', NULL);
SELECT invoicing.create_invoice('cus_bad1', 'usd', NULL);
SELECT invoicing.add_invoice_line(NULL, 100);
SELECT invoicing.add_invoice_line('in_bad2', NULL);
SELECT invoicing.add_invoice_line('in_bad2', 100, NULL);
SELECT invoicing.finalize_invoice(NULL);
SELECT invoicing.create_payment_intent('cus_bad1', NULL, 100);
SELECT invoicing.create_payment_intent('cus_bad1', 'usd', NULL);
SELECT invoicing.create_payment_intent('cus_bad1', 'usd', 100, NULL);
SELECT invoicing.update_payment_intent(NULL, 'succeeded');
SELECT invoicing.update_payment_intent('pi_bad1', NULL);
SELECT invoicing.attach_payment(NULL, 'pi_bad1');
SELECT invoicing.attach_payment('in_bad1', NULL);
SELECT invoicing.attach_payment(NULL, NULL);
SELECT invoicing.attach_out_of_band_payment(NULL, 100);
SELECT invoicing.attach_out_of_band_payment('in_bad1', NULL);
SELECT invoicing.pay_invoice(NULL);
SELECT invoicing.void_invoice(NULL);
SELECT invoicing.mark_uncollectible(NULL);
SELECT invoicing.adjust_customer_balance(NULL, 'usd', 100);
SELECT invoicing.adjust_customer_balance('cus_bad1', NULL, 100);
SELECT invoicing.adjust_customer_balance('cus_bad1', 'usd', NULL);
SELECT invoicing.invoice_json(NULL);
SELECT invoicing.invoice_json('in_bad1', NULL);
SELECT invoicing.invoice_json('in_bad1', '{payments,NULL}');
SELECT invoicing.invoice_payment_json(NULL);
SELECT invoicing.payment_intent_json(NULL);
SELECT invoicing.customer_balance_transaction_json(NULL);
SELECT invoicing.generate_id(NULL);
SELECT pg_temp.fp('bad') = :'fp' AS unchanged;
-- the optional arguments may be NULL
SELECT invoicing.add_invoice_line('in_bad2', 100, 1, NULL) IS NOT NULL AS added;
SELECT invoicing.create_payment_intent(NULL, 'usd', 100, 'processing', NULL) LIKE 'pi\_%' AS created;
SELECT (invoicing.attach_out_of_band_payment('in_bad1', 100, NULL))->>'amount_paid' AS amount_paid;
SELECT (invoicing.adjust_customer_balance('cus_bad1', 'eur', 50, NULL))->>'amount' AS amount;
SELECT (invoicing.update_payment_intent('pi_bad1', 'processing', NULL))->>'status' AS status;
SELECT invoicing.create_customer(NULL, NULL, NULL) ~ '^cus_[0-9A-Za-z]{24}$' AS customer_id;
SELECT * FROM inv WHERE id LIKE 'in\_bad%' ORDER BY id;
SELECT * FROM invoicing.check_invariants();

-- Currencies: lower-case ISO 4217 only (22023).
SELECT pg_temp.fp('bad') AS fp \gset
SELECT invoicing.create_invoice('cus_bad1', 'usd ');
SELECT invoicing.create_invoice('cus_bad1', ' usd');
SELECT invoicing.create_invoice('cus_bad1', 'US$');
SELECT invoicing.create_invoice('cus_bad1', 'xyz');
SELECT invoicing.create_invoice('cus_bad1', 'USD');
SELECT invoicing.create_invoice('cus_bad1', '');
SELECT invoicing.create_invoice('cus_bad1', 'usdd');
SELECT invoicing.create_payment_intent('cus_bad1', 'usd ', 100);
SELECT invoicing.create_payment_intent('cus_bad1', 'US$', 100);
SELECT invoicing.create_payment_intent('cus_bad1', 'xyz', 100);
SELECT invoicing.create_payment_intent('cus_bad1', 'USD', 100);
SELECT invoicing.create_payment_intent('cus_bad1', '', 100);
SELECT invoicing.adjust_customer_balance('cus_bad1', 'usd ', 100);
SELECT invoicing.adjust_customer_balance('cus_bad1', 'US$', 100);
SELECT invoicing.adjust_customer_balance('cus_bad1', 'xyz', 100);
SELECT invoicing.adjust_customer_balance('cus_bad1', 'USD', 100);
SELECT invoicing.adjust_customer_balance('cus_bad1', '', 100);
INSERT INTO invoicing.invoices (customer, currency) VALUES ('cus_bad1', 'USD');
INSERT INTO invoicing.payment_intents (customer, currency, amount) VALUES ('cus_bad1', 'xyz', 100);
INSERT INTO invoicing.customer_balance_transactions (customer, currency, amount) VALUES ('cus_bad1', 'US$', 100);
UPDATE invoicing.invoices SET currency = 'Eur' WHERE id = 'in_bad2';
SELECT pg_temp.fp('bad') = :'fp' AS unchanged;
SELECT count(*) AS invoices FROM invoicing.invoices WHERE customer = 'cus_bad1';
-- real codes of other currencies are accepted
SELECT invoicing.create_invoice('cus_bad1', 'jpy', id => 'in_bad3');
SELECT invoicing.create_payment_intent('cus_bad1', 'chf', 100, id => 'pi_bad_chf');
SELECT currency FROM invoicing.invoices WHERE id = 'in_bad3';

-- Zero and negative amounts (22023).
SELECT pg_temp.fp('bad') AS fp \gset
SELECT invoicing.create_payment_intent('cus_bad1', 'usd', 0);
SELECT invoicing.create_payment_intent('cus_bad1', 'usd', -100);
INSERT INTO invoicing.payment_intents (customer, currency, amount) VALUES ('cus_bad1', 'usd', 0);
SELECT invoicing.attach_out_of_band_payment('in_bad1', 0);
SELECT invoicing.attach_out_of_band_payment('in_bad1', -100);
SELECT invoicing.adjust_customer_balance('cus_bad1', 'usd', 0);
SELECT invoicing.update_payment_intent('pi_bad1', 'succeeded', -1);
SELECT invoicing.add_invoice_line('in_bad2', 100, -1);
SELECT pg_temp.fp('bad') = :'fp' AS unchanged;
-- a free line (unit_amount 0) and a discount (negative) are lines
SELECT invoicing.add_invoice_line('in_bad2', 0) IS NOT NULL AS added;
SELECT invoicing.add_invoice_line('in_bad2', -50) IS NOT NULL AS added;
SELECT * FROM inv WHERE id = 'in_bad2';

-- Amounts near 2^63: 22003, never a wrapped number.
SELECT invoicing.create_invoice('cus_bad1', 'usd', id => 'in_bad4');
SELECT pg_temp.fp('bad') AS fp \gset
SELECT invoicing.add_invoice_line('in_bad4', 9223372036854775807, 2);
SELECT invoicing.add_invoice_line('in_bad4', -9223372036854775808, 2);
SELECT invoicing.add_invoice_line('in_bad4', 4611686018427387904, 2);
SELECT invoicing.add_invoice_line('in_bad4', 9223372036854775807, 2147483647);
INSERT INTO invoicing.invoice_lines (invoice, unit_amount, quantity) VALUES ('in_bad4', 9223372036854775807, 2);
SELECT pg_temp.fp('bad') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_bad4';
-- the largest line is fine; one more cent on the invoice overflows its total
SELECT invoicing.add_invoice_line('in_bad4', 9223372036854775807) IS NOT NULL AS added;
SELECT * FROM inv WHERE id = 'in_bad4';
SELECT pg_temp.fp('bad') AS fp \gset
SELECT invoicing.add_invoice_line('in_bad4', 1);
SELECT invoicing.add_invoice_line('in_bad4', 9223372036854775807);
UPDATE invoicing.invoice_lines SET quantity = 2 WHERE invoice = 'in_bad4';
SELECT pg_temp.fp('bad') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_bad4';
SELECT count(*) AS lines FROM invoicing.invoice_lines WHERE invoice = 'in_bad4';
-- two negative lines whose sum is below -2^63
SELECT invoicing.create_invoice('cus_bad1', 'usd', id => 'in_bad5');
SELECT invoicing.add_invoice_line('in_bad5', -9223372036854775807) IS NOT NULL AS added;
SELECT pg_temp.fp('bad') AS fp \gset
SELECT invoicing.add_invoice_line('in_bad5', -2);
SELECT pg_temp.fp('bad') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_bad5';
DELETE FROM invoicing.invoices WHERE id = 'in_bad5';
SELECT * FROM invoicing.check_invariants();

-- A PaymentIntent of 2^63-1 is above amount_remaining of a 10000 invoice
-- (22023), and so is an out-of-band payment of 2^63-1.
SELECT invoicing.create_payment_intent('cus_bad1', 'usd', 9223372036854775807, id => 'pi_bad_max');
SELECT pg_temp.fp('bad') AS fp \gset
SELECT invoicing.attach_payment('in_bad1', 'pi_bad_max');
SELECT invoicing.attach_out_of_band_payment('in_bad1', 9223372036854775807);
SELECT pg_temp.fp('bad') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_bad1';

-- An invoice of 2^63-1: finalized with a debit balance of 1, total +
-- balance overflows (22003).  Without it, two open PaymentIntents of 2^63-1
-- each fit; when both succeed, amount_paid would overflow (22003) and the
-- second success changes nothing.
SELECT invoicing.create_customer(id => 'cus_bad2');
SELECT (invoicing.adjust_customer_balance('cus_bad2', 'usd', 1))->>'amount' AS amount;
SELECT invoicing.create_invoice('cus_bad2', 'usd', id => 'in_bad6');
SELECT invoicing.add_invoice_line('in_bad6', 9223372036854775807) IS NOT NULL AS added;
SELECT pg_temp.fp('bad') AS fp \gset
SELECT invoicing.finalize_invoice('in_bad6');
UPDATE invoicing.invoices SET status = 'open' WHERE id = 'in_bad6';
SELECT pg_temp.fp('bad') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_bad6';
SELECT (invoicing.adjust_customer_balance('cus_bad2', 'usd', -1))->>'ending_balance' AS balance;
SELECT invoicing.finalize_invoice('in_bad6')->>'amount_due' AS amount_due;
SELECT * FROM inv WHERE id = 'in_bad6';
SELECT invoicing.create_payment_intent('cus_bad2', 'usd', 9223372036854775807, id => 'pi_bad6a');
SELECT invoicing.create_payment_intent('cus_bad2', 'usd', 9223372036854775807, id => 'pi_bad6b');
SELECT invoicing.attach_payment('in_bad6', 'pi_bad6a') IS NOT NULL AS attached;
SELECT invoicing.attach_payment('in_bad6', 'pi_bad6b') IS NOT NULL AS attached;
SELECT (invoicing.update_payment_intent('pi_bad6a', 'succeeded'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_bad6';
SELECT pg_temp.fp('bad') AS fp \gset
SELECT invoicing.update_payment_intent('pi_bad6b', 'succeeded');
UPDATE invoicing.payment_intents SET status = 'succeeded' WHERE id = 'pi_bad6b';
SELECT pg_temp.fp('bad') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_bad6';
SELECT payment_intent, status, amount_requested, amount_paid FROM pay
 WHERE invoice = 'in_bad6' ORDER BY payment_intent;
SELECT status, amount_received FROM invoicing.payment_intents WHERE id = 'pi_bad6b';
-- two partial receipts that add up to exactly 2^63-1 stay in range
SELECT invoicing.create_customer(id => 'cus_bad3');
SELECT invoicing.create_invoice('cus_bad3', 'usd', id => 'in_bad7');
SELECT invoicing.add_invoice_line('in_bad7', 9223372036854775807) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_bad7')->>'status' AS status;
SELECT invoicing.create_payment_intent('cus_bad3', 'usd', 9223372036854775807, id => 'pi_bad7a');
SELECT invoicing.create_payment_intent('cus_bad3', 'usd', 9223372036854775807, id => 'pi_bad7b');
SELECT invoicing.attach_payment('in_bad7', 'pi_bad7a') IS NOT NULL AS attached;
SELECT invoicing.attach_payment('in_bad7', 'pi_bad7b') IS NOT NULL AS attached;
SELECT (invoicing.update_payment_intent('pi_bad7a', 'succeeded', 9223372036854775806))->>'status' AS status;
SELECT (invoicing.update_payment_intent('pi_bad7b', 'succeeded', 1))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_bad7';
SELECT * FROM invoicing.check_invariants();

-- Balance adjustments that overflow: 22003.
SELECT invoicing.create_customer(id => 'cus_bad4');
SELECT (invoicing.adjust_customer_balance('cus_bad4', 'usd', 9223372036854775807))->>'ending_balance' AS balance;
SELECT pg_temp.fp('bad') AS fp \gset
SELECT invoicing.adjust_customer_balance('cus_bad4', 'usd', 1);
SELECT invoicing.adjust_customer_balance('cus_bad4', 'usd', 9223372036854775807);
INSERT INTO invoicing.customer_balance_transactions (customer, currency, amount) VALUES ('cus_bad4', 'usd', 1);
SELECT pg_temp.fp('bad') = :'fp' AS unchanged;
SELECT (invoicing.adjust_customer_balance('cus_bad4', 'usd', -9223372036854775807))->>'ending_balance' AS balance;
SELECT (invoicing.adjust_customer_balance('cus_bad4', 'usd', -9223372036854775807))->>'ending_balance' AS balance;
SELECT (invoicing.adjust_customer_balance('cus_bad4', 'usd', -1))->>'ending_balance' AS balance;
SELECT pg_temp.fp('bad') AS fp \gset
SELECT invoicing.adjust_customer_balance('cus_bad4', 'usd', -1);
SELECT invoicing.adjust_customer_balance('cus_bad4', 'usd', -9223372036854775808);
SELECT pg_temp.fp('bad') = :'fp' AS unchanged;
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_bad4';
SELECT * FROM invoicing.check_invariants();

-- Unknown enum values given to functions: 22023.
SELECT pg_temp.fp('bad') AS fp \gset
SELECT invoicing.create_invoice('cus_bad1', 'usd', 'bogus');
SELECT invoicing.create_invoice('cus_bad1', 'usd', 'SEND_INVOICE');
SELECT invoicing.create_invoice('cus_bad1', 'usd', '');
SELECT invoicing.create_payment_intent('cus_bad1', 'usd', 100, 'bogus');
SELECT invoicing.create_payment_intent('cus_bad1', 'usd', 100, 'Succeeded');
SELECT invoicing.update_payment_intent('pi_bad1', 'paid');
SELECT invoicing.update_payment_intent('pi_bad1', 'succeeded ');
SELECT invoicing.invoice_json('in_bad1', '{lines}');
SELECT invoicing.invoice_json('in_bad1', '{payments,customer}');
SELECT pg_temp.fp('bad') = :'fp' AS unchanged;

-- Ids with quotes and semicolons.  A supplied id is checked (22023), as is
-- one without its object's prefix.
SELECT invoicing.create_customer(id => 'cus_x''; DROP TABLE invoicing.invoices; --');
SELECT invoicing.create_customer(id => 'cus_a"b');
SELECT invoicing.create_customer(id => 'in_bad9');
SELECT invoicing.create_invoice('cus_bad1', 'usd', id => 'in_bad9'';--');
SELECT invoicing.create_invoice('cus_bad1', 'usd', id => 'in_bad9;');
SELECT invoicing.create_invoice('cus_bad1', 'usd', id => 'inv_bad9');
SELECT invoicing.create_invoice('cus_bad1', 'usd', id => 'cus_bad9');
SELECT invoicing.create_payment_intent('cus_bad1', 'usd', 100, id => 'pi_x;y');
SELECT invoicing.create_payment_intent('cus_bad1', 'usd', 100, id => 'pi_x''');
SELECT invoicing.create_payment_intent('cus_bad1', 'usd', 100, id => 'in_bad9');
INSERT INTO invoicing.invoice_lines (id, invoice, unit_amount) VALUES ('il_x'';--', 'in_bad2', 1);
INSERT INTO invoicing.invoice_lines (id, invoice, unit_amount) VALUES ('li_bad9', 'in_bad2', 1);
INSERT INTO invoicing.invoice_payments (id, invoice, payment_intent) VALUES ('inpay_"x"', 'in_bad1', 'pi_bad1');
INSERT INTO invoicing.invoice_payments (id, invoice, payment_intent) VALUES ('pi_bad9', 'in_bad1', 'pi_bad1');
INSERT INTO invoicing.customer_balance_transactions (id, customer, currency, amount)
VALUES ('cbtxn_;', 'cus_bad1', 'usd', 1);
INSERT INTO invoicing.customer_balance_transactions (id, customer, currency, amount)
VALUES ('txn_bad9', 'cus_bad1', 'usd', 1);
SELECT pg_temp.fp('bad') = :'fp' AS unchanged;
SELECT count(*) AS customers FROM invoicing.customers WHERE id LIKE '%;%' OR id LIKE '%''%' OR id LIKE '%"%';
-- An id that is looked up names no row (P0002).
SELECT invoicing.create_invoice('cus_''; DROP TABLE invoicing.invoices; --', 'usd');
SELECT invoicing.create_payment_intent('cus_";', 'usd', 100);
SELECT invoicing.adjust_customer_balance('cus_'';--', 'usd', 100);
SELECT invoicing.add_invoice_line('in_'';--', 100);
SELECT invoicing.finalize_invoice('in_x''; DROP TABLE invoicing.invoices; --');
SELECT invoicing.attach_payment('in_bad1', 'pi_''";--');
SELECT invoicing.attach_payment('in_'';--', 'pi_bad1');
SELECT invoicing.update_payment_intent('pi_'';--', 'succeeded');
SELECT invoicing.attach_out_of_band_payment('in_;', 100);
SELECT invoicing.pay_invoice('in_''');
SELECT invoicing.void_invoice('in_";--');
SELECT invoicing.mark_uncollectible('in_'';');
SELECT invoicing.invoice_json('in_'';--');
SELECT invoicing.invoice_payment_json('inpay_'';--');
SELECT invoicing.payment_intent_json('pi_'';--');
SELECT invoicing.customer_balance_transaction_json('cbtxn_'';--');
SELECT pg_temp.fp('bad') = :'fp' AS unchanged;
SELECT to_regclass('invoicing.invoices') IS NOT NULL AS invoices_table_still_there;

-- generate_id: the prefix and 24 base-62 characters from a strong random source.
SELECT id ~ '^cus_[0-9A-Za-z]{24}$' AS shape, length(id) AS length
  FROM invoicing.generate_id('cus_') AS id;
SELECT id ~ '^in_[0-9A-Za-z]{24}$' AS shape, length(id) AS length
  FROM invoicing.generate_id('in_') AS id;
SELECT count(*) AS ids, count(DISTINCT id) AS distinct_ids,
       bool_and(id ~ '^cus_[0-9A-Za-z]{24}$') AS all_shaped
  FROM (SELECT invoicing.generate_id('cus_') AS id FROM generate_series(1, 2000)) s;
-- all 62 characters turn up among 2000 x 24 draws
SELECT count(DISTINCT c) AS characters
  FROM (SELECT invoicing.generate_id('cus_') AS id FROM generate_series(1, 2000)) s,
       regexp_split_to_table(substr(id, 5), '') AS c;
-- ids the functions and DML generate have the same shape
SELECT invoicing.create_invoice('cus_bad1', 'usd') ~ '^in_[0-9A-Za-z]{24}$' AS invoice_id;
SELECT invoicing.add_invoice_line('in_bad2', 1) ~ '^il_[0-9A-Za-z]{24}$' AS line_id;
SELECT invoicing.create_payment_intent('cus_bad1', 'usd', 1) ~ '^pi_[0-9A-Za-z]{24}$' AS pi_id;
SELECT id ~ '^inpay_[0-9A-Za-z]{24}$' AS inpay_id, payment_record ~ '^prec_[0-9A-Za-z]{24}$' AS prec_id
  FROM invoicing.invoice_payments WHERE invoice = 'in_bad1';
SELECT :'bad_txn' ~ '^cbtxn_[0-9A-Za-z]{24}$' AS cbtxn_id;

-- Messages: PostgreSQL style (lower case, no trailing period), naming the
-- ids and numbers involved.
SELECT * FROM pg_temp.err($$SELECT invoicing.finalize_invoice('in_bad_missing')$$);
SELECT * FROM pg_temp.err($$SELECT invoicing.attach_payment('in_bad1', 'pi_bad_missing')$$);
SELECT sqlstate, message ~ '^[a-z]' AS lower_case, message !~ '\.$' AS no_period,
       strpos(message, 'pi_bad_max') > 0 AS names_pi, strpos(message, 'in_bad1') > 0 AS names_invoice,
       strpos(message, '9223372036854775807') > 0 AS names_amount, strpos(message, '9900') > 0 AS names_remaining
  FROM pg_temp.err($$SELECT invoicing.attach_payment('in_bad1', 'pi_bad_max')$$);
SELECT sqlstate, message ~ '^[a-z]' AS lower_case, message !~ '\.$' AS no_period,
       strpos(message, 'US$') > 0 AS names_currency
  FROM pg_temp.err($$SELECT invoicing.create_invoice('cus_bad1', 'US$')$$);
SELECT sqlstate, message ~ '^[a-z]' AS lower_case, message !~ '\.$' AS no_period,
       strpos(message, 'in_bad1') > 0 AS names_invoice
  FROM pg_temp.err($$SELECT invoicing.void_invoice('in_bad1')$$);
SELECT sqlstate, message ~ '^[a-z]' AS lower_case, message !~ '\.$' AS no_period,
       strpos(message, 'pi_bad7a') > 0 AS names_pi
  FROM pg_temp.err($$SELECT invoicing.update_payment_intent('pi_bad7a', 'canceled')$$);
SELECT sqlstate, message ~ '^[a-z]' AS lower_case, message !~ '\.$' AS no_period
  FROM pg_temp.err($$SELECT invoicing.adjust_customer_balance('cus_bad4', 'usd', -1)$$);
SELECT sqlstate, message ~ '^[a-z]' AS lower_case, message !~ '\.$' AS no_period
  FROM pg_temp.err($$UPDATE invoicing.invoices SET amount_paid = 0 WHERE id = 'in_bad1'$$);
SELECT * FROM invoicing.check_invariants();
