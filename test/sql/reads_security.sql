-- reads_security: the rows the JSON functions and the customer check read by
-- key, without a query of their own (src/reads.c), are read with the rights
-- of the caller as the queries they replace were: no SELECT privilege on the
-- table is 42501, and row-level security policies hide rows (the read then
-- goes through the query, so the policy applies).  Ids carry "rsec".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;

SELECT invoicing.create_customer(id => 'cus_rsec1') AS customer;
SELECT invoicing.create_invoice('cus_rsec1', 'usd', id => 'in_rsec1') AS invoice;
SELECT invoicing.add_invoice_line('in_rsec1', 5000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_rsec1') ->> 'status' AS status;
SELECT invoicing.create_payment_intent('cus_rsec1', 'usd', 2000, id => 'pi_rsec1') AS pi;
SELECT jsonb_array_length(invoicing.attach_payment('in_rsec1', 'pi_rsec1') -> 'payments' -> 'data')
       AS payments_listed;
SELECT invoicing.create_invoice('cus_rsec1', 'usd', id => 'in_rsec2') AS invoice;

-- A role that may use the functions but read no table.
SET client_min_messages = warning;
DROP ROLE IF EXISTS invoicing_rsec_reader;
RESET client_min_messages;
CREATE ROLE invoicing_rsec_reader;
GRANT USAGE ON SCHEMA invoicing TO invoicing_rsec_reader;

SET ROLE invoicing_rsec_reader;
\set VERBOSITY sqlstate
SELECT invoicing.invoice_json('in_rsec1');
SELECT invoicing.invoice_json('in_rsec1', '{payments}');
SELECT invoicing.payment_intent_json('pi_rsec1');
\set VERBOSITY default
SELECT invoicing.invoice_json('in_rsec1');
RESET ROLE;

-- With SELECT on the invoices only, the invoice reads and its payments do not.
GRANT SELECT ON invoicing.invoices TO invoicing_rsec_reader;
SET ROLE invoicing_rsec_reader;
SELECT invoicing.invoice_json('in_rsec1') ->> 'amount_paid' AS amount_paid;
SELECT invoicing.invoice_json('in_rsec1', '{payments}');
RESET ROLE;
GRANT SELECT ON invoicing.invoice_payments TO invoicing_rsec_reader;
SET ROLE invoicing_rsec_reader;
SELECT jsonb_array_length(invoicing.invoice_json('in_rsec1', '{payments}') -> 'payments' -> 'data')
       AS payments_listed;
RESET ROLE;

-- Row-level security on the invoices: the reader sees in_rsec1 only.  The
-- owner (a superuser here) is not subject to the policy.
ALTER TABLE invoicing.invoices ENABLE ROW LEVEL SECURITY;
CREATE POLICY rsec_only_one ON invoicing.invoices FOR SELECT TO invoicing_rsec_reader
    USING (id = 'in_rsec1');
SET ROLE invoicing_rsec_reader;
SELECT invoicing.invoice_json('in_rsec1') ->> 'id' AS visible;
SELECT invoicing.invoice_json('in_rsec2') ->> 'id' AS hidden;
SELECT count(*) AS rows_the_reader_sees FROM invoicing.invoices WHERE id LIKE 'in_rsec%';
RESET ROLE;
SELECT invoicing.invoice_json('in_rsec2') ->> 'id' AS owner_sees;

-- Row-level security on the payments: the list of in_rsec1 comes out empty
-- for the reader, as a query of the table would show it.
ALTER TABLE invoicing.invoice_payments ENABLE ROW LEVEL SECURITY;
CREATE POLICY rsec_none ON invoicing.invoice_payments FOR SELECT TO invoicing_rsec_reader
    USING (false);
SET ROLE invoicing_rsec_reader;
SELECT invoicing.invoice_json('in_rsec1', '{payments}') -> 'payments' ->> 'data' AS data,
       invoicing.invoice_json('in_rsec1', '{payments}') -> 'payments' ->> 'has_more' AS has_more;
RESET ROLE;
SELECT jsonb_array_length(invoicing.invoice_json('in_rsec1', '{payments}') -> 'payments' -> 'data')
       AS owner_payments_listed;

-- A database without the index of the newest payments (dropped here inside
-- a transaction): the page is read through the query, the same list.
BEGIN;
DROP INDEX invoicing.invoice_payments_newest;
SELECT jsonb_array_length(invoicing.invoice_json('in_rsec1', '{payments}') -> 'payments' -> 'data')
       AS payments_listed_without_the_index;
ROLLBACK;

-- An index left invalid and no longer maintained (as an interrupted DROP
-- INDEX CONCURRENTLY leaves it; simulated here inside a transaction): the
-- page is read through the query, so a payment attached afterwards, which
-- the index does not hold, is listed first.
BEGIN;
UPDATE pg_catalog.pg_index SET indisvalid = false, indisready = false
 WHERE indexrelid = 'invoicing.invoice_payments_newest'::regclass;
SELECT invoicing.create_payment_intent('cus_rsec1', 'usd', 1000, id => 'pi_rsec2') AS pi;
SELECT invoicing.attach_payment('in_rsec1', 'pi_rsec2') -> 'payments' -> 'data' -> 0 -> 'payment' ->> 'payment_intent'
       AS newest_listed;
SELECT jsonb_array_length(invoicing.invoice_json('in_rsec1', '{payments}') -> 'payments' -> 'data')
       AS payments_listed;
ROLLBACK;

-- Column privileges: a writer that may read only the id of customers can
-- still record a PaymentIntent (the trigger's check that the customer
-- exists reads what the query "SELECT id ... WHERE id = $1" would), and one
-- that may not read it gets 42501.
SET client_min_messages = warning;
DROP ROLE IF EXISTS invoicing_rsec_writer;
RESET client_min_messages;
CREATE ROLE invoicing_rsec_writer;
GRANT USAGE ON SCHEMA invoicing TO invoicing_rsec_writer;
GRANT INSERT ON invoicing.payment_intents TO invoicing_rsec_writer;
SET ROLE invoicing_rsec_writer;
INSERT INTO invoicing.payment_intents (id, customer, currency, amount)
VALUES ('pi_rsec3', 'cus_rsec1', 'usd', 100);
RESET ROLE;
GRANT SELECT (id) ON invoicing.customers TO invoicing_rsec_writer;
SET ROLE invoicing_rsec_writer;
INSERT INTO invoicing.payment_intents (id, customer, currency, amount)
VALUES ('pi_rsec3', 'cus_rsec1', 'usd', 100);
INSERT INTO invoicing.payment_intents (id, customer, currency, amount)
VALUES ('pi_rsec4', 'cus_rsec_missing', 'usd', 100);
RESET ROLE;
SELECT id, customer, amount FROM invoicing.payment_intents WHERE id LIKE 'pi_rsec3%';
DELETE FROM invoicing.payment_intents WHERE id = 'pi_rsec3';
REVOKE ALL ON invoicing.payment_intents FROM invoicing_rsec_writer;
REVOKE ALL (id) ON invoicing.customers FROM invoicing_rsec_writer;
REVOKE USAGE ON SCHEMA invoicing FROM invoicing_rsec_writer;
DROP ROLE invoicing_rsec_writer;

-- Clean up: the policies, row-level security and the role.
DROP POLICY rsec_none ON invoicing.invoice_payments;
ALTER TABLE invoicing.invoice_payments DISABLE ROW LEVEL SECURITY;
DROP POLICY rsec_only_one ON invoicing.invoices;
ALTER TABLE invoicing.invoices DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON invoicing.invoices, invoicing.invoice_payments FROM invoicing_rsec_reader;
REVOKE USAGE ON SCHEMA invoicing FROM invoicing_rsec_reader;
DROP ROLE invoicing_rsec_reader;
