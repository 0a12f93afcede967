-- bench/setup.sql: the data every workload starts from, made through the
-- extension itself (so every derived column is the extension's own).
-- Run once in the "ext" database; the "bare" database is a copy of it
-- (CREATE DATABASE ... TEMPLATE) with the extension's triggers disabled.
--
-- psql variables: w1_inv (W1 invoices), w2_hist (payments already on each
-- W2 invoice), w4_inv (W4 invoices), w5_cus (W5 customers).
\set ON_ERROR_STOP on
SET client_min_messages = warning;

-- Customers: cus_<workload>_<n>
INSERT INTO invoicing.customers (id, email)
SELECT 'cus_w1_' || c, 'w1-' || c || '@bench.invalid' FROM generate_series(0, 99) c;
INSERT INTO invoicing.customers (id, email) VALUES
	('cus_w2_0', 'w2@bench.invalid'), ('cus_w3_0', 'w3@bench.invalid'),
	('cus_mem_0', 'mem@bench.invalid'),
	('cus_w2foff_0', 'w2f-off@bench.invalid'), ('cus_w2fon_0', 'w2f-on@bench.invalid'),
	('cus_w3rr_0', 'w3rr@bench.invalid');
INSERT INTO invoicing.customers (id, email)
SELECT 'cus_w4_' || c, 'w4-' || c || '@bench.invalid' FROM generate_series(0, 99) c;
INSERT INTO invoicing.customers (id, email)
SELECT 'cus_w5_' || c, 'w5-' || c || '@bench.invalid' FROM generate_series(0, :w5_cus - 1) c;

-- Invoices: in_<workload>_<k>, big enough to stay open for the whole run.
INSERT INTO invoicing.invoices (id, customer, currency)
SELECT 'in_w1_' || k, 'cus_w1_' || (k % 100), 'usd' FROM generate_series(0, :w1_inv - 1) k;
INSERT INTO invoicing.invoices (id, customer, currency) VALUES
	('in_w2_0', 'cus_w2_0', 'usd'), ('in_w2_1', 'cus_w2_0', 'usd'),
	('in_w3_0', 'cus_w3_0', 'usd'), ('in_w3rr_0', 'cus_w3rr_0', 'usd'),
	('in_mem_0', 'cus_mem_0', 'usd'),
	-- W2f (W2's control): fresh invoices, a pair for each synchronous_commit mode
	('in_w2foff_0', 'cus_w2foff_0', 'usd'), ('in_w2foff_1', 'cus_w2foff_0', 'usd'),
	('in_w2fon_0', 'cus_w2fon_0', 'usd'), ('in_w2fon_1', 'cus_w2fon_0', 'usd');
INSERT INTO invoicing.invoices (id, customer, currency)
SELECT 'in_w4_' || k, 'cus_w4_' || (k % 100), 'usd' FROM generate_series(0, :w4_inv - 1) k;

INSERT INTO invoicing.invoice_lines (invoice, unit_amount, description)
SELECT id, 1000000000000000, 'bench line' FROM invoicing.invoices;
UPDATE invoicing.invoices SET status = 'open';

-- W4: every invoice partially paid (one PaymentIntent payment).
INSERT INTO invoicing.payment_intents (id, customer, currency, amount, status)
SELECT 'pi_w4_' || k, 'cus_w4_' || (k % 100), 'usd', 1000000, 'succeeded'
  FROM generate_series(0, :w4_inv - 1) k;
INSERT INTO invoicing.invoice_payments (invoice, payment_intent)
SELECT 'in_w4_' || k, 'pi_w4_' || k FROM generate_series(0, :w4_inv - 1) k;

-- W5: customers with a large credit balance.
SELECT count(invoicing.adjust_customer_balance('cus_w5_' || c, 'usd', -1000000000000000))
  FROM generate_series(0, :w5_cus - 1) c;
