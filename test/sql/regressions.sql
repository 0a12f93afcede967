-- regressions: one case for each bug found by the model-based fuzzer, the
-- stress runs and the hostile-input catalogue (test/model), so each stays
-- fixed in the plain pg_regress suite too.  Ids carry "rgr".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\set VERBOSITY sqlstate

SELECT invoicing.create_customer(id => 'cus_rgr1');

-- 1. A line of -2^63 can be updated and removed: the total moves by the
--    line's own amounts, without negating the smallest bigint.
SELECT invoicing.create_invoice('cus_rgr1', 'usd', id => 'in_rgr1');
INSERT INTO invoicing.invoice_lines (id, invoice, unit_amount)
VALUES ('il_rgr_min', 'in_rgr1', -9223372036854775808);
SELECT total FROM invoicing.invoices WHERE id = 'in_rgr1';
UPDATE invoicing.invoice_lines SET unit_amount = 5 WHERE id = 'il_rgr_min';
SELECT total FROM invoicing.invoices WHERE id = 'in_rgr1';
UPDATE invoicing.invoice_lines SET unit_amount = -9223372036854775808 WHERE id = 'il_rgr_min';
DELETE FROM invoicing.invoice_lines WHERE id = 'il_rgr_min';
SELECT total, subtotal FROM invoicing.invoices WHERE id = 'in_rgr1';

-- 2. amount_refunded of a payment cannot be written on insert (23514): it
--    would let a refund exceed what the payment paid (invariant 9).
SELECT invoicing.add_invoice_line('in_rgr1', 1000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_rgr1')->>'status' AS status;
SELECT invoicing.create_payment_intent('cus_rgr1', 'usd', 100, 'succeeded', id => 'pi_rgr_b');
INSERT INTO invoicing.invoice_payments (invoice, payment_intent, amount_refunded)
VALUES ('in_rgr1', 'pi_rgr_b', -900);
INSERT INTO invoicing.invoice_payments (invoice, payment_type, amount_requested, amount_refunded)
VALUES ('in_rgr1', 'payment_record', 100, 50);
SELECT count(*) AS payments FROM invoicing.invoice_payments WHERE invoice = 'in_rgr1';

-- 3. seq (insertion order) is drawn by the trigger: a supplied value is
--    ignored, so "newest first" follows the real insertion order.
SELECT invoicing.create_payment_intent('cus_rgr1', 'usd', 300, 'succeeded', id => 'pi_rgr_c'),
       invoicing.create_payment_intent('cus_rgr1', 'usd', 300, 'succeeded', id => 'pi_rgr_d');
BEGIN;
INSERT INTO invoicing.invoice_payments (invoice, payment_intent, seq) VALUES ('in_rgr1', 'pi_rgr_c', 999999999);
INSERT INTO invoicing.invoice_payments (invoice, payment_intent) VALUES ('in_rgr1', 'pi_rgr_d');
COMMIT;
SELECT p->'payment'->>'payment_intent' AS newest_first
  FROM jsonb_array_elements(invoicing.invoice_json('in_rgr1', '{payments}')->'payments'->'data') p;
SELECT seq < 999999999 AS seq_drawn FROM invoicing.invoice_payments WHERE payment_intent = 'pi_rgr_c';
-- the refund goes to the newest payment
SELECT invoicing.create_credit_note('in_rgr1', 800, refund_amount => 100, out_of_band_amount => 300)->>'type' AS type;
SELECT p.payment_intent, r.amount
  FROM invoicing.refunds r JOIN invoicing.invoice_payments p ON p.id = r.invoice_payment
 WHERE p.invoice = 'in_rgr1';

-- 4. No table of the extension can be truncated (55000).
TRUNCATE invoicing.refunds;
TRUNCATE invoicing.customer_balance_transactions;
TRUNCATE invoicing.events;
SET client_min_messages = warning;
TRUNCATE invoicing.invoices CASCADE;
RESET client_min_messages;

-- 5. Metadata is Stripe's: string values only (22023).
UPDATE invoicing.invoices SET metadata = '{"n": 1}' WHERE id = 'in_rgr1';
UPDATE invoicing.invoices SET metadata = '[1]' WHERE id = 'in_rgr1';
UPDATE invoicing.invoices SET metadata = '{"order": "A-17"}' WHERE id = 'in_rgr1';
SELECT invoicing.invoice_json('in_rgr1')->'metadata' AS metadata;

SELECT * FROM invoicing.check_invariants()
 WHERE object_id LIKE '%rgr%';

-- 6. A hostile search_path: an "=" on text that is always true, found before
--    pg_catalog's.  Every statement the extension runs is schema-qualified
--    and spells its operators OPERATOR(pg_catalog.…), so nothing changes.
CREATE SCHEMA rgr_evil;
CREATE FUNCTION rgr_evil.always(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR rgr_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = rgr_evil.always);
CREATE FUNCTION rgr_evil.plus(bigint, bigint) RETURNS bigint LANGUAGE sql AS 'SELECT 0::bigint';
CREATE OPERATOR rgr_evil.+ (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = rgr_evil.plus);
SET search_path = rgr_evil, pg_catalog;
SELECT invoicing.create_customer(id => 'cus_rgr2');
SELECT invoicing.create_invoice('cus_rgr2', 'usd', id => 'in_rgr2');
SELECT invoicing.add_invoice_line('in_rgr2', 1000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_rgr2')->>'amount_due' AS amount_due;
SELECT invoicing.create_payment_intent('cus_rgr2', 'usd', 400, id => 'pi_rgr2');
SELECT invoicing.attach_payment('in_rgr2', 'pi_rgr2')->'payments'->'data'->0->'payment'->>'payment_intent' AS attached;
SELECT invoicing.update_payment_intent('pi_rgr2', 'succeeded')->>'status' AS status;
SELECT invoicing.create_credit_note('in_rgr2', 700, refund_amount => 100)->>'type' AS type;
SELECT invoicing.invoice_json('in_rgr2') ->> 'status' AS status,
       invoicing.invoice_json('in_rgr2') ->> 'amount_paid' AS amount_paid;
SELECT count(*) AS via_events_after,
       (SELECT count(*) FROM invoicing.events
         WHERE object_id OPERATOR(pg_catalog.=) 'in_rgr2') AS in_table
  FROM invoicing.events_after(0, 1000) e WHERE e.object_id OPERATOR(pg_catalog.=) 'in_rgr2';
RESET search_path;
SELECT p.payment_intent, r.amount
  FROM invoicing.refunds r JOIN invoicing.invoice_payments p ON p.id = r.invoice_payment
 WHERE p.invoice = 'in_rgr2';
SELECT * FROM invoicing.check_invariants() WHERE object_id LIKE '%rgr%';
SET client_min_messages = warning;
DROP SCHEMA rgr_evil CASCADE;
RESET client_min_messages;

-- 7. Event numbering needs events_seq to hand out increasing values to every
--    backend: a sequence cache would break that, so a transaction that
--    writes events with a cached events_seq fails at commit (55000) and
--    changes nothing (the ALTER SEQUENCE goes with it).
SELECT invoicing.create_customer(id => 'cus_rgr3');
SELECT invoicing.create_invoice('cus_rgr3', 'usd', id => 'in_rgr3');
SELECT invoicing.add_invoice_line('in_rgr3', 500) IS NOT NULL AS added;
BEGIN;
ALTER SEQUENCE invoicing.events_seq CACHE 5;
SELECT invoicing.finalize_invoice('in_rgr3')->>'status' AS status;
COMMIT;
SELECT status, (SELECT count(*) FROM invoicing.events WHERE object_id = 'in_rgr3') AS events,
       (SELECT seqcache FROM pg_sequence WHERE seqrelid = 'invoicing.events_seq'::regclass) AS cache
  FROM invoicing.invoices WHERE id = 'in_rgr3';
SELECT invoicing.finalize_invoice('in_rgr3')->>'status' AS status;
SELECT count(*) AS events FROM invoicing.events WHERE object_id = 'in_rgr3';
