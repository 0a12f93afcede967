-- credit_notes_json: credit_note_json and the objects the functions return
-- (issue 3; SPEC 6): the key set and JSON types of Stripe's credit_note,
-- values against the stored rows, refunds list, numbers.  Ids carry "cnj".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\i test/sql/include/cn_helpers.psql

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
