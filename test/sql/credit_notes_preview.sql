-- credit_notes_preview: preview_credit_note (issue 3; SPEC 3, rule C): the
-- same split, type, number and refunds as the create that follows, nothing
-- written, the same errors.  Ids carry "cnv".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
-- Errors show their SQLSTATE only (VERBOSITY sqlstate).  Every error case is
-- followed by a check that the failed call changed nothing: a fingerprint of
-- every row of this file's objects (and the row counts of credit notes,
-- refunds and events), taken before the call and compared after it, plus a
-- re-select of the invoice.  Generated ids, timestamps and invoice numbers
-- are never printed: a credit note's number is shown as "<inv>-CN-01" when it
-- is its invoice's number followed by "-CN-01".
\set VERBOSITY sqlstate
CREATE TEMP VIEW inv AS
  SELECT id, status, total, amount_due, amount_paid, amount_remaining, amount_overpaid,
         pre_payment_credit_notes_amount AS pre_cn, post_payment_credit_notes_amount AS post_cn,
         starting_balance, ending_balance, paid_at IS NOT NULL AS paid_at_set
    FROM invoicing.invoices;
-- a credit note's number relative to its invoice's number
CREATE FUNCTION pg_temp.rel_number(cn_number text, invoice text) RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN starts_with(cn_number, i.number) AND i.number <> ''
              THEN '<inv>' || substr(cn_number, length(i.number) + 1)
              ELSE cn_number END
    FROM invoicing.invoices i WHERE i.id = invoice
$$;
CREATE TEMP VIEW cn AS
  SELECT c.invoice, pg_temp.rel_number(c.number, c.invoice) AS number, c.amount,
         c.pre_payment_amount AS pre, c.post_payment_amount AS post, c.type, c.status,
         c.refund_amount AS refund, c.credit_amount AS credit, c.out_of_band_amount AS oob,
         c.voided_at IS NOT NULL AS voided_at_set,
         c.customer_balance_transaction IS NOT NULL AS has_txn
    FROM invoicing.credit_notes c;
-- the id of an invoice's k-th credit note, found by its number
CREATE FUNCTION pg_temp.cn_id(invoice text, k int) RETURNS text LANGUAGE sql AS $$
  SELECT c.id FROM invoicing.credit_notes c JOIN invoicing.invoices i ON i.id = c.invoice
   WHERE c.invoice = cn_id.invoice AND c.number = i.number || '-CN-' || lpad(k::text, 2, '0')
$$;
-- payments, with what has been refunded on each (invariant 9)
CREATE TEMP VIEW pay AS
  SELECT p.invoice, coalesce(p.payment_intent, p.payment_type::text) AS payment, p.status,
         p.amount_requested, p.amount_paid,
         (SELECT coalesce(sum(r.amount), 0) FROM invoicing.refunds r
           WHERE r.invoice_payment = p.id) AS refunded
    FROM invoicing.invoice_payments p;
CREATE TEMP VIEW ref AS
  SELECT c.invoice, pg_temp.rel_number(c.number, c.invoice) AS credit_note,
         coalesce(p.payment_intent, p.payment_type::text) AS payment, r.amount, r.currency,
         r.payment_intent IS NOT DISTINCT FROM p.payment_intent AS same_payment_intent,
         r.id ~ '^re_[0-9A-Za-z]{24}$' AS id_ok
    FROM invoicing.refunds r
    JOIN invoicing.credit_notes c ON c.id = r.credit_note
    JOIN invoicing.invoice_payments p ON p.id = r.invoice_payment;
CREATE TEMP VIEW txn AS
  SELECT t.customer, t.currency, t.type, t.amount, t.ending_balance, t.invoice,
         pg_temp.rel_number(c.number, c.invoice) AS credit_note,
         c.customer_balance_transaction IS NOT DISTINCT FROM t.id AS linked, t.created, t.seq
    FROM invoicing.customer_balance_transactions t
    LEFT JOIN invoicing.credit_notes c ON c.id = t.credit_note;
CREATE FUNCTION pg_temp.balance(customer text, currency text DEFAULT 'usd') RETURNS bigint
LANGUAGE sql AS $$
  SELECT coalesce((SELECT b.balance FROM invoicing.customer_balances b
                    WHERE b.customer = balance.customer AND b.currency = balance.currency), 0)
$$;
-- a credit note object as returned by a function: its main fields, and
-- whether it is the stored note's credit_note_json() (NULL for a preview)
CREATE FUNCTION pg_temp.show(j jsonb)
RETURNS TABLE (number text, amount bigint, pre bigint, post bigint, type text, status text,
               refunds text, credit bigint, oob bigint, has_txn boolean, same_as_stored boolean)
LANGUAGE sql AS $$
  SELECT pg_temp.rel_number(j->>'number', j->>'invoice'), (j->>'amount')::bigint,
         (j->>'pre_payment_amount')::bigint, (j->>'post_payment_amount')::bigint,
         j->>'type', j->>'status',
         (SELECT string_agg(r->>'amount_refunded', ',' ORDER BY o)
            FROM jsonb_array_elements(j->'refunds') WITH ORDINALITY e(r, o)),
         (SELECT c.credit_amount FROM invoicing.credit_notes c WHERE c.id = j->>'id'),
         (j->>'out_of_band_amount')::bigint,
         jsonb_typeof(j->'customer_balance_transaction') = 'string',
         CASE WHEN EXISTS (SELECT 1 FROM invoicing.credit_notes c WHERE c.id = j->>'id')
              THEN j = invoicing.credit_note_json(j->>'id') END
$$;
-- set-up helpers: an open invoice with one line; a PaymentIntent attached
-- while requires_payment_method, then reported succeeded
CREATE FUNCTION pg_temp.open_invoice(invoice text, customer text, total bigint) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM invoicing.create_invoice(customer, 'usd', id => invoice);
  PERFORM invoicing.add_invoice_line(invoice, total);
  RETURN invoicing.finalize_invoice(invoice)->>'status';
END $$;
CREATE FUNCTION pg_temp.pay(invoice text, pi text, amount bigint) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM invoicing.create_payment_intent(
    (SELECT i.customer FROM invoicing.invoices i WHERE i.id = invoice), 'usd', amount, id => pi);
  PERFORM invoicing.attach_payment(invoice, pi);
  RETURN invoicing.update_payment_intent(pi, 'succeeded')->>'status';
END $$;
-- fingerprint of the rows of the objects whose ids carry the tag
CREATE FUNCTION pg_temp.fp(tag text) RETURNS text LANGUAGE sql AS $$
  SELECT md5(concat_ws(E'\n',
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.customers x
      WHERE x.id LIKE 'cus\_' || tag || '%'),
    (SELECT string_agg(x::text, ',' ORDER BY x.customer, x.currency) FROM invoicing.customer_balances x
      WHERE x.customer LIKE 'cus\_' || tag || '%'),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.customer_balance_transactions x
      WHERE x.customer LIKE 'cus\_' || tag || '%'),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.invoices x
      WHERE x.id LIKE 'in\_' || tag || '%'),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.invoice_lines x
      WHERE x.invoice LIKE 'in\_' || tag || '%'),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.payment_intents x
      WHERE x.id LIKE 'pi\_' || tag || '%'),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.invoice_payments x
      WHERE x.invoice LIKE 'in\_' || tag || '%'),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.credit_notes x
      WHERE x.invoice LIKE 'in\_' || tag || '%'),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.refunds x
      JOIN invoicing.invoice_payments p ON p.id = x.invoice_payment
      WHERE p.invoice LIKE 'in\_' || tag || '%'),
    (SELECT count(*) FROM invoicing.credit_notes)::text,
    (SELECT count(*) FROM invoicing.refunds)::text,
    (SELECT count(*) FROM invoicing.events)::text))
$$;
-- check_invariants() restricted to this file's objects (other files' objects
-- are theirs to check)
CREATE FUNCTION pg_temp.violations(tag text) RETURNS TABLE (object_id text, invariant text, detail text)
LANGUAGE sql AS $$
  SELECT v.object_id, v.invariant, v.detail FROM invoicing.check_invariants() v
   WHERE v.object_id LIKE '%\_' || tag || '%'
      OR v.object_id IN (SELECT c.id FROM invoicing.credit_notes c WHERE c.invoice LIKE 'in\_' || tag || '%')
      OR v.object_id IN (SELECT p.id FROM invoicing.invoice_payments p WHERE p.invoice LIKE 'in\_' || tag || '%')
      OR v.object_id IN (SELECT l.id FROM invoicing.invoice_lines l WHERE l.invoice LIKE 'in\_' || tag || '%')
$$;

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
