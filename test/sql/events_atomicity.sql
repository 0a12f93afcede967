-- events_atomicity: events are written in the transaction of the change
-- they describe (SPEC 6): drafts emit nothing, a failed call emits nothing
-- (even when it had written events before failing), a rolled-back
-- transaction or savepoint leaves no event, events cannot be changed,
-- deleted or written by hand, and events_after reads them in seq order.
-- NOTIFY delivery (at commit only) is tested by test/scripts/events_notify.sh
-- and test/scripts/events_consumer.sh: psql prints the backend PID and the
-- random event id with each notification, which pg_regress cannot compare.
-- Ids carry "eva".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\set VERBOSITY sqlstate

-- the events after a seq: type and object, generated ids masked
CREATE FUNCTION pg_temp.events(after bigint) RETURNS TABLE (type text, object text)
LANGUAGE sql AS $$
  SELECT e.type, regexp_replace(e.object_id, '^(inpay|cn)_[0-9A-Za-z]{24}$', '\1_<id>')
    FROM invoicing.events e WHERE e.seq > after ORDER BY e.seq
$$;
-- fingerprint of this file's invoices, payments and balance transactions
CREATE FUNCTION pg_temp.fp() RETURNS text LANGUAGE sql AS $$
  SELECT md5(concat_ws(E'\n',
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.invoices x WHERE x.id LIKE 'in\_eva%'),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.invoice_payments x WHERE x.invoice LIKE 'in\_eva%'),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.payment_intents x WHERE x.id LIKE 'pi\_eva%'),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.credit_notes x WHERE x.invoice LIKE 'in\_eva%'),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.customer_balance_transactions x
      WHERE x.customer LIKE 'cus\_eva%')))
$$;

SELECT invoicing.create_customer(id => 'cus_eva1');

-- ===== Drafts emit nothing =====
-- creating, editing (lines, description, metadata, customer) and deleting a
-- draft writes no event
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.create_customer(id => 'cus_eva2');
SELECT invoicing.create_invoice('cus_eva1', 'usd', id => 'in_eva_draft');
SELECT invoicing.add_invoice_line('in_eva_draft', 1000) IS NOT NULL AS added;
SELECT invoicing.add_invoice_line('in_eva_draft', 500, 3, 'three') AS line \gset
UPDATE invoicing.invoices SET description = 'draft', metadata = '{"a": "1"}', customer = 'cus_eva2'
 WHERE id = 'in_eva_draft';
UPDATE invoicing.invoice_lines SET quantity = 4 WHERE id = :'line';
DELETE FROM invoicing.invoice_lines WHERE id = :'line';
SELECT invoicing.invoice_json('in_eva_draft')->>'total' AS total;
DELETE FROM invoicing.invoices WHERE id = 'in_eva_draft';
SELECT invoicing.create_invoice('cus_eva1', 'usd', id => 'in_eva_draft2');
SELECT invoicing.add_invoice_line('in_eva_draft2', 700) IS NOT NULL AS added;
SELECT count(*) AS events FROM invoicing.events WHERE seq > :last;
-- customers, PaymentIntents and balance adjustments have no event type
SELECT invoicing.create_payment_intent('cus_eva1', 'usd', 1000, id => 'pi_eva_lone');
SELECT invoicing.update_payment_intent('pi_eva_lone', 'succeeded')->>'status' AS status;
SELECT invoicing.adjust_customer_balance('cus_eva2', 'usd', -300)->>'amount' AS amount;
SELECT count(*) AS events FROM invoicing.events WHERE seq > :last;

-- ===== Fixtures =====
-- in_eva1: open, 10000, with a paid 4000 PaymentIntent payment, an open
-- 3000 one and a canceled PaymentIntent pi_eva_x
SELECT invoicing.create_invoice('cus_eva1', 'usd', id => 'in_eva1');
SELECT invoicing.add_invoice_line('in_eva1', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_eva1')->>'status' AS status;
SELECT invoicing.create_payment_intent('cus_eva1', 'usd', 4000, 'succeeded', id => 'pi_eva_paid');
SELECT invoicing.attach_payment('in_eva1', 'pi_eva_paid')->>'amount_paid' AS amount_paid;
SELECT invoicing.create_payment_intent('cus_eva1', 'usd', 3000, id => 'pi_eva_open');
SELECT invoicing.attach_payment('in_eva1', 'pi_eva_open')->>'amount_paid' AS amount_paid;
SELECT invoicing.create_payment_intent('cus_eva1', 'usd', 9000, id => 'pi_eva_big');
SELECT invoicing.create_payment_intent('cus_eva1', 'usd', 1000, 'canceled', id => 'pi_eva_x');
-- in_eva2: paid
SELECT invoicing.create_invoice('cus_eva1', 'usd', id => 'in_eva2');
SELECT invoicing.add_invoice_line('in_eva2', 2000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_eva2')->>'status' AS status;
SELECT invoicing.pay_invoice('in_eva2')->>'status' AS status;
SELECT (invoicing.create_credit_note('in_eva2', 500, out_of_band_amount => 500))->>'id' AS cn2 \gset

-- ===== A failed call emits nothing =====
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT pg_temp.fp() AS fp \gset
-- finalize an open invoice
SELECT invoicing.finalize_invoice('in_eva1');
-- attach more than amount_remaining
SELECT invoicing.attach_payment('in_eva1', 'pi_eva_big');
-- attach a canceled PaymentIntent
SELECT invoicing.attach_payment('in_eva1', 'pi_eva_x');
-- change a final PaymentIntent
SELECT invoicing.update_payment_intent('pi_eva_paid', 'canceled');
-- void an invoice with payments
SELECT invoicing.void_invoice('in_eva1');
-- mark uncollectible with an open payment
SELECT invoicing.mark_uncollectible('in_eva1');
-- out of band above amount_remaining; pay a paid invoice
SELECT invoicing.attach_out_of_band_payment('in_eva1', 6001);
SELECT invoicing.pay_invoice('in_eva2');
-- a credit note above the creditable amount; dispositions that do not sum
SELECT invoicing.create_credit_note('in_eva1', 10001);
SELECT invoicing.create_credit_note('in_eva2', 1000, refund_amount => 1000);
-- void a credit note of a paid invoice
SELECT invoicing.void_credit_note(:'cn2');
-- write a derived column; set an invoice paid directly
UPDATE invoicing.invoices SET amount_paid = 10000 WHERE id = 'in_eva1';
UPDATE invoicing.invoices SET status = 'paid' WHERE id = 'in_eva1';
SELECT count(*) AS events, pg_temp.fp() = :'fp' AS nothing_changed
  FROM invoicing.events WHERE seq > :last;

-- A call that fails after it has written events: the first update writes
-- invoice_payment.paid and invoice.updated, then the second one fails
-- (55000: pi_eva_x is canceled) and the DO block fails with it; the whole
-- call changes nothing and leaves no event.  (The inner block only turns
-- the extension's message into a stable one.)
\set VERBOSITY terse
DO $$
DECLARE
  before bigint := (SELECT coalesce(max(seq), 0) FROM invoicing.events);
  written text;
BEGIN
  PERFORM invoicing.update_payment_intent('pi_eva_open', 'succeeded');
  written := (SELECT string_agg(type, ', ' ORDER BY seq) FROM invoicing.events WHERE seq > before);
  BEGIN
    PERFORM invoicing.update_payment_intent('pi_eva_x', 'succeeded');
  EXCEPTION WHEN object_not_in_prerequisite_state THEN
    RAISE EXCEPTION 'second update failed (%) after the first wrote: %', SQLSTATE, written;
  END;
END $$;
\set VERBOSITY sqlstate
SELECT count(*) AS events, pg_temp.fp() = :'fp' AS nothing_changed
  FROM invoicing.events WHERE seq > :last;
-- the same with one multi-row DML statement
UPDATE invoicing.payment_intents SET status = 'succeeded' WHERE id IN ('pi_eva_open', 'pi_eva_x');
SELECT count(*) AS events, pg_temp.fp() = :'fp' AS nothing_changed
  FROM invoicing.events WHERE seq > :last;

-- ===== A rolled-back transaction leaves no event =====
BEGIN;
SELECT invoicing.update_payment_intent('pi_eva_open', 'succeeded')->>'status' AS status;
-- inside the transaction its own events are visible
SELECT * FROM pg_temp.events(:last);
SELECT max(seq) AS rolled_back_seq FROM invoicing.events \gset
ROLLBACK;
SELECT count(*) AS events, pg_temp.fp() = :'fp' AS nothing_changed
  FROM invoicing.events WHERE seq > :last;
-- a rolled-back savepoint takes its events with it; the rest commit
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
BEGIN;
SELECT invoicing.create_credit_note('in_eva1', 1000)->>'pre_payment_amount' AS pre;
SAVEPOINT s;
SELECT invoicing.update_payment_intent('pi_eva_open', 'succeeded')->>'status' AS status;
SELECT * FROM pg_temp.events(:last);
ROLLBACK TO SAVEPOINT s;
SELECT * FROM pg_temp.events(:last);
COMMIT;
SELECT * FROM pg_temp.events(:last);
SELECT invoicing.invoice_json('in_eva1')->>'amount_remaining' AS amount_remaining;
-- the committed events come after the rolled-back ones in seq (sequences
-- are not rolled back): a consumer sees gaps in seq, never a reuse
SELECT bool_and(seq > :rolled_back_seq) AS after_rolled_back
  FROM invoicing.events WHERE seq > :last;
-- the same change, committed, emits its events
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.update_payment_intent('pi_eva_open', 'succeeded')->>'status' AS status;
SELECT * FROM pg_temp.events(:last);

-- ===== Events cannot be changed, deleted or written by hand =====
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT max(seq) AS some_seq FROM invoicing.events \gset
UPDATE invoicing.events SET type = 'invoice.paid' WHERE seq = :some_seq;
UPDATE invoicing.events SET payload = payload WHERE seq = :some_seq;
DELETE FROM invoicing.events WHERE seq = :some_seq;
INSERT INTO invoicing.events (id, type, object_id, payload)
VALUES ('evt_eva_forged', 'invoice.paid', 'in_eva1', '{}');
SELECT count(*) AS events, max(seq) = :some_seq AS last_kept FROM invoicing.events WHERE seq >= :some_seq;

-- ===== events_after(after_seq, max_events): the consumer's read =====
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.create_invoice('cus_eva1', 'usd', id => 'in_eva3');
SELECT invoicing.add_invoice_line('in_eva3', 3000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_eva3')->>'status' AS status;
SELECT invoicing.pay_invoice('in_eva3')->>'status' AS status;
SELECT * FROM pg_temp.events(:last);
-- in seq order, at most max_events, the whole rows
SELECT type FROM invoicing.events_after(:last, 2);
SELECT row_number() OVER (ORDER BY seq) AS n, type FROM invoicing.events_after(:last, 100);
SELECT (SELECT array_agg(e ORDER BY e.seq) FROM invoicing.events_after(:last, 100) e)
     = (SELECT array_agg(e ORDER BY e.seq) FROM invoicing.events e WHERE seq > :last) AS whole_rows;
-- page by page with a cursor: every event once, in order
WITH RECURSIVE pages(cursor, seqs, n) AS (
  SELECT :last::bigint, ARRAY[]::bigint[], 0
  UNION ALL
  SELECT (SELECT max(seq) FROM invoicing.events_after(p.cursor, 2)),
         p.seqs || (SELECT array_agg(seq ORDER BY seq) FROM invoicing.events_after(p.cursor, 2)),
         p.n + 1
    FROM pages p WHERE EXISTS (SELECT FROM invoicing.events_after(p.cursor, 2))
)
SELECT max(n) AS pages,
       (SELECT seqs FROM pages ORDER BY n DESC LIMIT 1)
         = (SELECT array_agg(seq ORDER BY seq) FROM invoicing.events WHERE seq > :last) AS all_once_in_order
  FROM pages;
-- nothing after the newest; max_events 0 or below: nothing; NULL cursor:
-- from the start; NULL max_events: 100
SELECT count(*) AS after_newest FROM invoicing.events_after((SELECT max(seq) FROM invoicing.events), 100);
SELECT count(*) AS max_0 FROM invoicing.events_after(:last, 0);
SELECT count(*) AS max_negative FROM invoicing.events_after(:last, -5);
SELECT (SELECT seq FROM invoicing.events_after(NULL, 1)) = (SELECT min(seq) FROM invoicing.events) AS null_cursor_from_start;
SELECT count(*) = least(100, (SELECT count(*) FROM invoicing.events)) AS null_max_is_100
  FROM invoicing.events_after(0, NULL);
