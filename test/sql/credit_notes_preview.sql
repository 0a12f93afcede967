-- credit_notes_preview: preview_credit_note (issue 3; SPEC 3, rule C): the
-- same split, type, number and refunds as the create that follows, nothing
-- written, the same errors.  Ids carry "cnv".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\i test/sql/include/cn_helpers.psql

-- preview_credit_note (SPEC 3) returns what create_credit_note would
-- create, from the same allocation, and writes nothing.  Compared with the
-- create that follows it: everything but the id, created, the refunds' ids
-- and the balance transaction's id, which exist only once written.
SELECT invoicing.create_customer('cnv1@example.com', 'Cnv One', 'cus_cnv1');
-- counts of every table a credit note can write to
CREATE FUNCTION pg_temp.counts() RETURNS text LANGUAGE sql AS $$
  SELECT concat_ws(',', (SELECT count(*) FROM invoicing.credit_notes),
                   (SELECT count(*) FROM invoicing.refunds),
                   (SELECT count(*) FROM invoicing.customer_balance_transactions),
                   (SELECT count(*) FROM invoicing.customer_balances),
                   (SELECT count(*) FROM invoicing.events),
                   (SELECT count(*) FROM invoicing.invoice_payments),
                   (SELECT count(*) FROM invoicing.invoices))
$$;
-- the preview p and the created note c agree
CREATE FUNCTION pg_temp.agree(p jsonb, c jsonb)
RETURNS TABLE (same_fields boolean, same_refund_amounts boolean, preview_refund_count int)
LANGUAGE sql AS $$
  SELECT p - '{id,created,refunds,customer_balance_transaction}'::text[]
           = c - '{id,created,refunds,customer_balance_transaction}'::text[],
         (SELECT array_agg((r->>'amount_refunded')::bigint ORDER BY o)
            FROM jsonb_array_elements(p->'refunds') WITH ORDINALITY e(r, o))
           IS NOT DISTINCT FROM
         (SELECT array_agg((r->>'amount_refunded')::bigint ORDER BY o)
            FROM jsonb_array_elements(c->'refunds') WITH ORDINALITY e(r, o)),
         jsonb_array_length(p->'refunds')
$$;

-- in_cnv1: 10000, pi_cnv1a 3000 then pi_cnv1b 1000 paid (remaining 6000).
SELECT pg_temp.open_invoice('in_cnv1', 'cus_cnv1', 10000);
SELECT pg_temp.pay('in_cnv1', 'pi_cnv1a', 3000);
SELECT pg_temp.pay('in_cnv1', 'pi_cnv1b', 1000);
-- 7500 refunding 1000 and crediting 500: mixed 6000/1500, the refund of
-- 1000 all on pi_cnv1b (the newest).  The preview says so and writes
-- nothing (the same counts and fingerprint after it); the create agrees.
SELECT pg_temp.counts() AS counts, pg_temp.fp('cnv') AS fp \gset
SELECT invoicing.preview_credit_note('in_cnv1', 7500, refund_amount => 1000, credit_amount => 500,
                                     reason => 'product_unsatisfactory', memo => 'scratched') AS p \gset
SELECT * FROM pg_temp.show(:'p');
SELECT pg_temp.counts() = :'counts' AS no_rows_written, pg_temp.fp('cnv') = :'fp' AS unchanged;
SELECT invoicing.create_credit_note('in_cnv1', 7500, refund_amount => 1000, credit_amount => 500,
                                    reason => 'product_unsatisfactory', memo => 'scratched') AS c \gset
SELECT * FROM pg_temp.show(:'c');
SELECT * FROM pg_temp.agree(:'p', :'c');
SELECT * FROM ref WHERE invoice = 'in_cnv1' ORDER BY credit_note, payment;
SELECT * FROM inv WHERE id = 'in_cnv1';
-- the next one on the now paid invoice: post_payment, -CN-02, refunding the
-- 2000 left: 2000 on pi_cnv1a (pi_cnv1b is fully refunded)
SELECT pg_temp.counts() AS counts, pg_temp.fp('cnv') AS fp \gset
SELECT invoicing.preview_credit_note('in_cnv1', 2500, refund_amount => 2000, out_of_band_amount => 500) AS p \gset
SELECT * FROM pg_temp.show(:'p');
SELECT pg_temp.counts() = :'counts' AS no_rows_written, pg_temp.fp('cnv') = :'fp' AS unchanged;
SELECT invoicing.create_credit_note('in_cnv1', 2500, refund_amount => 2000, out_of_band_amount => 500) AS c \gset
SELECT * FROM pg_temp.agree(:'p', :'c');
SELECT * FROM ref WHERE invoice = 'in_cnv1' ORDER BY credit_note, payment;
SELECT * FROM pg_temp.violations('cnv');

-- A preview in a read-only transaction works: it writes nothing.  in_cnv2:
-- 10000, nothing paid (another customer: cus_cnv1 has a balance now).
SELECT invoicing.create_customer(id => 'cus_cnv2');
SELECT pg_temp.open_invoice('in_cnv2', 'cus_cnv2', 10000);
BEGIN TRANSACTION READ ONLY;
SELECT * FROM pg_temp.show(invoicing.preview_credit_note('in_cnv2', 4000));
COMMIT;
-- Voided notes count in the number: after -CN-01 issued and voided, the
-- preview and the create are both -CN-02.
SELECT (invoicing.create_credit_note('in_cnv2', 4000))->>'type' AS type;
SELECT (invoicing.void_credit_note(pg_temp.cn_id('in_cnv2', 1)))->>'status' AS status;
SELECT pg_temp.counts() AS counts \gset
SELECT invoicing.preview_credit_note('in_cnv2', 10000) AS p \gset
SELECT pg_temp.counts() = :'counts' AS no_rows_written;
SELECT * FROM pg_temp.show(:'p');
SELECT invoicing.create_credit_note('in_cnv2', 10000) AS c \gset
SELECT * FROM pg_temp.agree(:'p', :'c');
SELECT * FROM inv WHERE id = 'in_cnv2';
SELECT * FROM pg_temp.violations('cnv');

-- A preview fails exactly as the create would, with the same SQLSTATE, and
-- writes nothing.  in_cnv3: 10000 with 3000 paid by pi_cnv3 and 1000 out
-- of band (remaining 6000, refundable 3000); in_cnv4 a draft.
SELECT pg_temp.open_invoice('in_cnv3', 'cus_cnv2', 10000);
SELECT pg_temp.pay('in_cnv3', 'pi_cnv3', 3000);
SELECT (invoicing.attach_out_of_band_payment('in_cnv3', 1000))->>'amount_remaining' AS amount_remaining;
SELECT invoicing.create_invoice('cus_cnv2', 'usd', id => 'in_cnv4');
SELECT pg_temp.counts() AS counts, pg_temp.fp('cnv') AS fp \gset
-- (each call shows only whether it returned something)
-- post part not covered (7000 = pre 6000 + post 1000): 22023
SELECT invoicing.preview_credit_note('in_cnv3', 7000) IS NOT NULL AS returned;
SELECT invoicing.create_credit_note('in_cnv3', 7000) IS NOT NULL AS returned;
-- dispositions on a pure pre-payment note: 22023
SELECT invoicing.preview_credit_note('in_cnv3', 3000, credit_amount => 3000) IS NOT NULL AS returned;
SELECT invoicing.create_credit_note('in_cnv3', 3000, credit_amount => 3000) IS NOT NULL AS returned;
-- dispositions 2500 <> post 3000: 22023
SELECT invoicing.preview_credit_note('in_cnv3', 9000, credit_amount => 500, refund_amount => 2000) IS NOT NULL AS returned;
SELECT invoicing.create_credit_note('in_cnv3', 9000, credit_amount => 500, refund_amount => 2000) IS NOT NULL AS returned;
-- refund 4000 = post 4000, but only 3000 is refundable: 22023
SELECT invoicing.preview_credit_note('in_cnv3', 10000, refund_amount => 4000) IS NOT NULL AS returned;
SELECT invoicing.create_credit_note('in_cnv3', 10000, refund_amount => 4000) IS NOT NULL AS returned;
-- above the total: 22023
SELECT invoicing.preview_credit_note('in_cnv3', 10001, credit_amount => 4001) IS NOT NULL AS returned;
SELECT invoicing.create_credit_note('in_cnv3', 10001, credit_amount => 4001) IS NOT NULL AS returned;
-- amount 0, a negative disposition, an unknown reason: 22023
SELECT invoicing.preview_credit_note('in_cnv3', 0) IS NOT NULL AS returned;
SELECT invoicing.preview_credit_note('in_cnv3', 1000, refund_amount => -1, credit_amount => 1) IS NOT NULL AS returned;
SELECT invoicing.preview_credit_note('in_cnv3', 1000, reason => 'changed_my_mind') IS NOT NULL AS returned;
-- a draft: 55000
SELECT invoicing.preview_credit_note('in_cnv4', 1000) IS NOT NULL AS returned;
SELECT invoicing.create_credit_note('in_cnv4', 1000) IS NOT NULL AS returned;
-- no such invoice: P0002; NULL: 22004
SELECT invoicing.preview_credit_note('in_cnv_nope', 1000) IS NOT NULL AS returned;
SELECT invoicing.preview_credit_note(NULL, 1000) IS NOT NULL AS returned;
SELECT invoicing.preview_credit_note('in_cnv3', NULL) IS NOT NULL AS returned;
SELECT invoicing.preview_credit_note('in_cnv3', 1000, refund_amount => NULL) IS NOT NULL AS returned;
SELECT invoicing.preview_credit_note('in_cnv3', 1000, credit_amount => NULL) IS NOT NULL AS returned;
SELECT invoicing.preview_credit_note('in_cnv3', 1000, out_of_band_amount => NULL) IS NOT NULL AS returned;
SELECT pg_temp.counts() = :'counts' AS no_rows_written, pg_temp.fp('cnv') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id IN ('in_cnv3', 'in_cnv4') ORDER BY id;
-- 9000 = pre 6000 + post 3000, refunding all 3000: the preview and the
-- create agree
SELECT invoicing.preview_credit_note('in_cnv3', 9000, refund_amount => 3000) AS p \gset
SELECT invoicing.create_credit_note('in_cnv3', 9000, refund_amount => 3000) AS c \gset
SELECT * FROM pg_temp.show(:'c');
SELECT * FROM pg_temp.agree(:'p', :'c');
SELECT * FROM pg_temp.violations('cnv');
