-- credit_notes_json: credit_note_json and the objects the functions return
-- (issue 3; SPEC 6): the key set and JSON types of Stripe's credit_note,
-- values against the stored rows, refunds list, numbers.  Ids carry "cnj".
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

-- credit_note_json (SPEC 6): Stripe's credit_note object for 2025-05-28.basil.
-- The minimum keys must all be there, and no key that Stripe's CreditNote
-- does not have (stripe-node's CreditNote type); values of the right JSON
-- types: integer amounts, Unix-second timestamps, livemode false, metadata
-- an object, null where Stripe has null.
CREATE TEMP TABLE required_keys (k text PRIMARY KEY);
INSERT INTO required_keys VALUES ('id'), ('object'), ('amount'), ('created'), ('currency'),
  ('customer'), ('customer_balance_transaction'), ('invoice'), ('livemode'), ('memo'),
  ('metadata'), ('number'), ('out_of_band_amount'), ('post_payment_amount'),
  ('pre_payment_amount'), ('reason'), ('refunds'), ('status'), ('subtotal'), ('total'),
  ('type'), ('voided_at');
-- every key of Stripe's CreditNote
CREATE TEMP TABLE stripe_keys (k text PRIMARY KEY);
INSERT INTO stripe_keys SELECT k FROM required_keys;
INSERT INTO stripe_keys VALUES ('amount_shipping'), ('customer_account'), ('discount_amount'),
  ('discount_amounts'), ('effective_at'), ('lines'), ('pdf'), ('pretax_credit_amounts'),
  ('shipping_cost'), ('subtotal_excluding_tax'), ('total_excluding_tax'), ('total_taxes');
-- the keys' JSON types: one row per key
CREATE FUNCTION pg_temp.key_types(j jsonb) RETURNS TABLE (key text, type text)
LANGUAGE sql AS $$
  SELECT r.k, jsonb_typeof(j->r.k) FROM required_keys r ORDER BY r.k
$$;
-- missing and unknown keys
CREATE FUNCTION pg_temp.key_check(j jsonb) RETURNS TABLE (missing text[], not_stripe text[])
LANGUAGE sql AS $$
  SELECT (SELECT coalesce(array_agg(r.k ORDER BY r.k), '{}') FROM required_keys r WHERE NOT j ? r.k),
         (SELECT coalesce(array_agg(k ORDER BY k), '{}') FROM jsonb_object_keys(j) k
           WHERE k NOT IN (SELECT s.k FROM stripe_keys s))
$$;
-- the values against the stored row (integers: every number is an integer)
CREATE FUNCTION pg_temp.values_check(j jsonb)
RETURNS TABLE (id_ok boolean, integers boolean, object text, livemode text, created_ok boolean,
               voided_at_ok boolean, currency text, customer text, invoice text,
               number text, subtotal_total_amount boolean, refunds_ok boolean,
               txn_ok boolean, memo text, reason text, metadata jsonb)
LANGUAGE sql AS $$
  SELECT j->>'id' ~ '^cn_[0-9A-Za-z]{24}$',
         (SELECT bool_and(v::text ~ '^-?[0-9]+$') FROM jsonb_each(j) e(k, v)
           WHERE jsonb_typeof(v) = 'number'),
         j->>'object', j->>'livemode',
         (j->>'created')::bigint = floor(extract(epoch FROM c.created))::bigint,
         (j->'voided_at' = 'null' AND c.voided_at IS NULL)
           OR (j->>'voided_at')::bigint = floor(extract(epoch FROM c.voided_at))::bigint,
         j->>'currency', j->>'customer', j->>'invoice',
         pg_temp.rel_number(j->>'number', j->>'invoice'),
         (j->>'subtotal')::bigint = c.amount AND (j->>'total')::bigint = c.amount
           AND (j->>'amount')::bigint = c.amount,
         (SELECT coalesce(jsonb_agg(jsonb_build_object('amount_refunded', r.amount, 'refund', r.id)
                                    ORDER BY r.id), '[]')
            FROM invoicing.refunds r WHERE r.credit_note = c.id)
           = (SELECT coalesce(jsonb_agg(jsonb_build_object('amount_refunded', e->'amount_refunded',
                                                           'refund', e->'refund')
                                        ORDER BY e->>'refund'), '[]')
                FROM jsonb_array_elements(j->'refunds') e),
         (j->'customer_balance_transaction' = 'null' AND c.customer_balance_transaction IS NULL)
           OR j->>'customer_balance_transaction' = c.customer_balance_transaction,
         j->>'memo', j->>'reason', j->'metadata'
    FROM invoicing.credit_notes c WHERE c.id = j->>'id'
$$;
-- the refunds list's elements: keys and types (Stripe's CreditNote.Refund:
-- amount_refunded, refund; later versions add type and payment_record_refund)
CREATE FUNCTION pg_temp.refund_items(j jsonb)
RETURNS TABLE (keys text, amount_refunded text, refund text, refund_id_ok boolean)
LANGUAGE sql AS $$
  SELECT (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(e) k
           WHERE k NOT IN ('type', 'payment_record_refund')),
         jsonb_typeof(e->'amount_refunded'), jsonb_typeof(e->'refund'), e->>'refund' ~ '^re_[0-9A-Za-z]{24}$'
    FROM jsonb_array_elements(j->'refunds') e ORDER BY e->>'amount_refunded'
$$;

SELECT invoicing.create_customer('cnj1@example.com', 'Cnj One', 'cus_cnj1');
-- in_cnj1: 10000, pi_cnj1a 3000 then pi_cnj1b 1000 paid.  A mixed note
-- refunding over both payments and crediting the balance, with a reason and
-- a memo.
SELECT pg_temp.open_invoice('in_cnj1', 'cus_cnj1', 10000);
SELECT pg_temp.pay('in_cnj1', 'pi_cnj1a', 3000);
SELECT pg_temp.pay('in_cnj1', 'pi_cnj1b', 1000);
SELECT invoicing.create_credit_note('in_cnj1', 8000, refund_amount => 1500, credit_amount => 500,
                                    reason => 'duplicate', memo => 'sent twice') AS j \gset
SELECT * FROM pg_temp.key_check(:'j');
SELECT * FROM pg_temp.key_types(:'j');
SELECT * FROM pg_temp.values_check(:'j');
SELECT * FROM pg_temp.refund_items(:'j');
SELECT (:'j'::jsonb)->>'pre_payment_amount' AS pre, (:'j'::jsonb)->>'post_payment_amount' AS post,
       (:'j'::jsonb)->>'out_of_band_amount' AS oob, (:'j'::jsonb)->>'type' AS type,
       (:'j'::jsonb)->>'status' AS status;
-- credit_note_json returns the same object
SELECT invoicing.credit_note_json((:'j'::jsonb)->>'id') = :'j'::jsonb AS same;

-- A plain pre-payment note: no refunds (an empty list), no balance
-- transaction, no reason, no memo: nulls.  Then voided: voided_at set.
SELECT pg_temp.open_invoice('in_cnj2', 'cus_cnj1', 10000);
SELECT invoicing.create_credit_note('in_cnj2', 2500) AS j \gset
SELECT * FROM pg_temp.key_check(:'j');
SELECT * FROM pg_temp.key_types(:'j');
SELECT * FROM pg_temp.values_check(:'j');
SELECT (:'j'::jsonb)->'refunds' AS refunds;
SELECT invoicing.void_credit_note((:'j'::jsonb)->>'id') AS j \gset
SELECT * FROM pg_temp.key_check(:'j');
SELECT * FROM pg_temp.key_types(:'j');
SELECT * FROM pg_temp.values_check(:'j');
SELECT invoicing.credit_note_json((:'j'::jsonb)->>'id') = :'j'::jsonb AS same;
-- numbers: the invoice's number, -CN-, two digits, counting the void one
SELECT (invoicing.create_credit_note('in_cnj2', 1000))->>'type' AS type;
SELECT pg_temp.rel_number(c.number, c.invoice) AS number, c.status
  FROM invoicing.credit_notes c WHERE c.invoice = 'in_cnj2' ORDER BY c.number;
-- metadata set by DML shows as an object of strings
UPDATE invoicing.credit_notes SET metadata = '{"order": "A-17", "batch": "3"}'
 WHERE id = pg_temp.cn_id('in_cnj2', 2);
SELECT j->'metadata' AS metadata, jsonb_typeof(j->'metadata') AS type
  FROM invoicing.credit_note_json(pg_temp.cn_id('in_cnj2', 2)) AS j;
-- the preview has the same shape
SELECT invoicing.preview_credit_note('in_cnj2', 1000, reason => 'fraudulent') AS j \gset
SELECT * FROM pg_temp.key_check(:'j');
SELECT * FROM pg_temp.key_types(:'j');
SELECT (:'j'::jsonb)->>'reason' AS reason, pg_temp.rel_number((:'j'::jsonb)->>'number', 'in_cnj2') AS number,
       (:'j'::jsonb)->>'status' AS status, (:'j'::jsonb)->'metadata' AS metadata;
-- credit_note_json of nothing
SELECT invoicing.credit_note_json('cn_cnj_nope');
SELECT invoicing.credit_note_json(NULL);
SELECT * FROM pg_temp.violations('cnj');
