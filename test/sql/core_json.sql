-- core_json: the Stripe-shaped objects of SPEC 6: invoice (with and without
-- the payments expansion: a list object, the 10 newest payments newest
-- first, has_more, url), invoice_payment (payment_intent and payment_record
-- forms), payment_intent and customer_balance_transaction: their keys,
-- integer amounts, Unix-second timestamps, nulls, and what the functions
-- return.  Generated ids and times are never printed.  Ids carry "jsn".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\i test/sql/include/core_helpers.psql
CREATE FUNCTION pg_temp.keys(j jsonb) RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(j) k
$$;
-- an integer JSON number
CREATE FUNCTION pg_temp.is_int(j jsonb) RETURNS boolean LANGUAGE sql AS $$
  SELECT jsonb_typeof(j) = 'number' AND j::text ~ '^-?[0-9]+$'
$$;
-- keys of the SPEC's minimum list that the object lacks
CREATE FUNCTION pg_temp.missing(j jsonb, VARIADIC want text[]) RETURNS text[] LANGUAGE sql AS $$
  SELECT coalesce(array_agg(w ORDER BY w), '{}') FROM unnest(want) w WHERE NOT j ? w
$$;

SELECT invoicing.create_customer(id => 'cus_jsn1');
SELECT invoicing.create_invoice('cus_jsn1', 'usd', id => 'in_jsn1');
SELECT invoicing.add_invoice_line('in_jsn1', 10000) IS NOT NULL AS added;

-- A draft invoice.
SELECT pg_temp.keys(j) FROM invoicing.invoice_json('in_jsn1') AS j;
SELECT pg_temp.missing(j, 'id', 'object', 'amount_due', 'amount_paid', 'amount_remaining',
         'amount_overpaid', 'collection_method', 'created', 'currency', 'customer',
         'ending_balance', 'livemode', 'metadata', 'number', 'post_payment_credit_notes_amount',
         'pre_payment_credit_notes_amount', 'starting_balance', 'status', 'status_transitions',
         'subtotal', 'total') AS missing,
       pg_temp.keys(j->'status_transitions') AS transitions
  FROM invoicing.invoice_json('in_jsn1') AS j;
SELECT j->>'id' AS id, j->>'object' AS object, j->>'status' AS status, j->>'currency' AS currency,
       j->>'customer' AS customer, j->>'collection_method' AS collection_method,
       j->'livemode' AS livemode, j->'metadata' AS metadata,
       jsonb_typeof(j->'number') AS number, jsonb_typeof(j->'ending_balance') AS ending_balance
  FROM invoicing.invoice_json('in_jsn1') AS j;
SELECT k, jsonb_typeof(j->'status_transitions'->k) AS type
  FROM invoicing.invoice_json('in_jsn1') AS j, jsonb_object_keys(j->'status_transitions') AS k
 ORDER BY k;
-- amounts are integers equal to the columns; created is the Unix time
SELECT bool_and(pg_temp.is_int(j->k)) AS integers,
       bool_and((j->>k)::numeric = (to_jsonb(i)->>k)::numeric) AS equal_to_columns
  FROM invoicing.invoices i, invoicing.invoice_json(i.id) AS j,
       unnest(ARRAY['amount_due', 'amount_paid', 'amount_remaining', 'amount_overpaid',
                    'starting_balance', 'post_payment_credit_notes_amount',
                    'pre_payment_credit_notes_amount', 'subtotal', 'total']) AS k
 WHERE i.id = 'in_jsn1';
SELECT pg_temp.is_int(j->'created') AS integer,
       (j->>'created')::bigint = floor(extract(epoch FROM i.created))::bigint AS unix_seconds
  FROM invoicing.invoices i, invoicing.invoice_json(i.id) AS j WHERE i.id = 'in_jsn1';
-- no payments key unless expanded
SELECT j ? 'payments' AS has_payments FROM invoicing.invoice_json('in_jsn1') AS j;

-- finalize_invoice returns the invoice object, as invoice_json then shows it.
SELECT invoicing.finalize_invoice('in_jsn1') AS fin \gset
SELECT :'fin'::jsonb = invoicing.invoice_json('in_jsn1') AS same_as_invoice_json,
       :'fin'::jsonb ? 'payments' AS has_payments;
SELECT j->>'status' AS status, jsonb_typeof(j->'number') AS number,
       j->'ending_balance' AS ending_balance, j->'amount_due' AS amount_due,
       pg_temp.is_int(j->'status_transitions'->'finalized_at') AS finalized_at_int,
       (j->'status_transitions'->>'finalized_at')::bigint = floor(extract(epoch FROM i.finalized_at))::bigint
         AS finalized_at_unix,
       j->'status_transitions'->'paid_at' AS paid_at,
       j->>'number' = i.number AS number_matches
  FROM invoicing.invoices i, invoicing.invoice_json(i.id) AS j WHERE i.id = 'in_jsn1';

-- Expanded, without payments: an empty list.
SELECT pg_temp.keys(j) FROM invoicing.invoice_json('in_jsn1', '{payments}') AS j;
SELECT pg_temp.keys(j->'payments') AS list_keys, j->'payments'->>'object' AS object,
       j->'payments'->'data' AS data, j->'payments'->'has_more' AS has_more,
       j->'payments'->>'url' AS url
  FROM invoicing.invoice_json('in_jsn1', '{payments}') AS j;
-- the same object otherwise
SELECT invoicing.invoice_json('in_jsn1', '{payments}') - 'payments' = invoicing.invoice_json('in_jsn1')
       AS same_otherwise;

-- attach_payment returns the invoice with its payments expanded, as it is
-- after the attach.
SELECT invoicing.create_payment_intent('cus_jsn1', 'usd', 3000, id => 'pi_jsn1a');
SELECT invoicing.attach_payment('in_jsn1', 'pi_jsn1a') AS att \gset
SELECT :'att'::jsonb = invoicing.invoice_json('in_jsn1', '{payments}') AS same_as_invoice_json;
SELECT jsonb_array_length(:'att'::jsonb->'payments'->'data') AS payments;
-- an open payment_intent payment
SELECT pg_temp.keys(p) AS keys, pg_temp.keys(p->'payment') AS payment_keys,
       pg_temp.keys(p->'status_transitions') AS transitions
  FROM invoicing.invoice_json('in_jsn1', '{payments}') AS j, jsonb_array_elements(j->'payments'->'data') AS p;
SELECT p->>'object' AS object, p->>'status' AS status, p->'amount_paid' AS amount_paid,
       p->'amount_requested' AS amount_requested, p->>'currency' AS currency, p->>'invoice' AS invoice,
       p->'is_default' AS is_default, p->'livemode' AS livemode, p->'payment' AS payment,
       p->'status_transitions' AS transitions, p->>'id' ~ '^inpay_[0-9A-Za-z]{24}$' AS id_shape,
       pg_temp.is_int(p->'created') AS created_int
  FROM invoicing.invoice_json('in_jsn1', '{payments}') AS j, jsonb_array_elements(j->'payments'->'data') AS p;
-- invoice_payment_json gives the same object as the list holds
SELECT invoicing.invoice_payment_json(ip.id) = j->'payments'->'data'->0 AS same_as_list_element
  FROM invoicing.invoice_payments ip, invoicing.invoice_json('in_jsn1', '{payments}') AS j
 WHERE ip.payment_intent = 'pi_jsn1a';

-- update_payment_intent returns the payment_intent object.
SELECT invoicing.update_payment_intent('pi_jsn1a', 'succeeded') AS upd \gset
SELECT :'upd'::jsonb = invoicing.payment_intent_json('pi_jsn1a') AS same_as_payment_intent_json;
SELECT pg_temp.keys(j) FROM invoicing.payment_intent_json('pi_jsn1a') AS j;
SELECT j->>'id' AS id, j->>'object' AS object, j->'amount' AS amount,
       j->'amount_received' AS amount_received, j->>'currency' AS currency,
       j->>'customer' AS customer, j->'livemode' AS livemode, j->'metadata' AS metadata,
       j->>'status' AS status, pg_temp.is_int(j->'created') AS created_int
  FROM invoicing.payment_intent_json('pi_jsn1a') AS j;
-- a PaymentIntent without a customer has customer null
SELECT invoicing.create_payment_intent(NULL, 'eur', 500, id => 'pi_jsn_nc');
SELECT j->'customer' AS customer, j->'amount_received' AS amount_received, j->>'status' AS status
  FROM invoicing.payment_intent_json('pi_jsn_nc') AS j;
-- the paid payment
SELECT p->>'status' AS status, p->'amount_paid' AS amount_paid,
       pg_temp.is_int(p->'status_transitions'->'paid_at') AS paid_at_int,
       p->'status_transitions'->'canceled_at' AS canceled_at
  FROM invoicing.invoice_payments ip, invoicing.invoice_payment_json(ip.id) AS p
 WHERE ip.payment_intent = 'pi_jsn1a';
SELECT j->'amount_paid' AS amount_paid, j->'amount_remaining' AS amount_remaining
  FROM invoicing.invoice_json('in_jsn1') AS j;

-- A canceled payment.
SELECT invoicing.create_payment_intent('cus_jsn1', 'usd', 1000, id => 'pi_jsn1b');
SELECT invoicing.attach_payment('in_jsn1', 'pi_jsn1b') IS NOT NULL AS attached;
SELECT (invoicing.update_payment_intent('pi_jsn1b', 'canceled'))->>'status' AS status;
SELECT p->>'status' AS status, p->'amount_paid' AS amount_paid,
       p->'status_transitions'->'paid_at' AS paid_at,
       pg_temp.is_int(p->'status_transitions'->'canceled_at') AS canceled_at_int
  FROM invoicing.invoice_payments ip, invoicing.invoice_payment_json(ip.id) AS p
 WHERE ip.payment_intent = 'pi_jsn1b';

-- An out-of-band payment: payment {type: payment_record, payment_record: prec_...}.
SELECT invoicing.attach_out_of_band_payment('in_jsn1', 2000, 'wire 9') AS oob \gset
SELECT :'oob'::jsonb = invoicing.invoice_json('in_jsn1', '{payments}') AS same_as_invoice_json;
SELECT pg_temp.keys(p) AS keys, pg_temp.keys(p->'payment') AS payment_keys,
       p->'payment'->>'type' AS type, p->'payment'->>'payment_record' ~ '^prec_[0-9A-Za-z]{24}$' AS prec_shape,
       p->>'status' AS status, p->'amount_paid' AS amount_paid, p->'amount_requested' AS amount_requested,
       pg_temp.is_int(p->'status_transitions'->'paid_at') AS paid_at_int
  FROM invoicing.invoice_payments ip, invoicing.invoice_payment_json(ip.id) AS p
 WHERE ip.invoice = 'in_jsn1' AND ip.payment_type = 'payment_record';
SELECT p->'payment'->>'payment_record' = ip.payment_record AS matches_column
  FROM invoicing.invoice_payments ip, invoicing.invoice_payment_json(ip.id) AS p
 WHERE ip.invoice = 'in_jsn1' AND ip.payment_type = 'payment_record';
-- the list is newest first: the out-of-band payment, the canceled one, the paid one
SELECT n, p->>'status' AS status, p->'payment'->>'type' AS type,
       p->'payment'->>'payment_intent' AS payment_intent, p->'amount_requested' AS amount_requested
  FROM invoicing.invoice_json('in_jsn1', '{payments}') AS j,
       jsonb_array_elements(j->'payments'->'data') WITH ORDINALITY AS e(p, n)
 ORDER BY n;

-- pay_invoice returns the expanded invoice too; the paid invoice.
SELECT invoicing.pay_invoice('in_jsn1') AS paid \gset
SELECT :'paid'::jsonb = invoicing.invoice_json('in_jsn1', '{payments}') AS same_as_invoice_json;
SELECT j->>'status' AS status, j->'amount_paid' AS amount_paid, j->'amount_remaining' AS amount_remaining,
       pg_temp.is_int(j->'status_transitions'->'paid_at') AS paid_at_int,
       jsonb_array_length(j->'payments'->'data') AS payments, j->'payments'->'has_more' AS has_more
  FROM invoicing.invoice_json('in_jsn1', '{payments}') AS j;

-- void_invoice and mark_uncollectible return the invoice object.
SELECT invoicing.create_invoice('cus_jsn1', 'usd', id => 'in_jsn4');
SELECT invoicing.add_invoice_line('in_jsn4', 100) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_jsn4') IS NOT NULL AS finalized;
SELECT invoicing.mark_uncollectible('in_jsn4') AS mu \gset
SELECT :'mu'::jsonb = invoicing.invoice_json('in_jsn4') AS same_as_invoice_json,
       :'mu'::jsonb->>'status' AS status,
       pg_temp.is_int(:'mu'::jsonb->'status_transitions'->'marked_uncollectible_at') AS marked_at_int;
SELECT invoicing.void_invoice('in_jsn4') AS vd \gset
SELECT :'vd'::jsonb = invoicing.invoice_json('in_jsn4') AS same_as_invoice_json,
       :'vd'::jsonb->>'status' AS status,
       pg_temp.is_int(:'vd'::jsonb->'status_transitions'->'voided_at') AS voided_at_int,
       :'vd'::jsonb->'status_transitions'->'paid_at' AS paid_at;

-- More than 10 payments: data holds the 10 newest, newest first, and
-- has_more is true.  With exactly 10, has_more is false.
SELECT invoicing.create_invoice('cus_jsn1', 'usd', id => 'in_jsn2');
SELECT invoicing.add_invoice_line('in_jsn2', 100000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_jsn2') IS NOT NULL AS finalized;
SELECT invoicing.create_payment_intent('cus_jsn1', 'usd', 100 + n, id => format('pi_jsn2_%s', lpad(n::text, 2, '0')))
  FROM generate_series(1, 11) n ORDER BY n;
SELECT invoicing.attach_payment('in_jsn2', 'pi_jsn2_01') IS NOT NULL AS attached;
SELECT invoicing.attach_payment('in_jsn2', 'pi_jsn2_02') IS NOT NULL AS attached;
SELECT invoicing.attach_payment('in_jsn2', 'pi_jsn2_03') IS NOT NULL AS attached;
SELECT invoicing.attach_payment('in_jsn2', 'pi_jsn2_04') IS NOT NULL AS attached;
SELECT invoicing.attach_payment('in_jsn2', 'pi_jsn2_05') IS NOT NULL AS attached;
SELECT invoicing.attach_payment('in_jsn2', 'pi_jsn2_06') IS NOT NULL AS attached;
SELECT invoicing.attach_payment('in_jsn2', 'pi_jsn2_07') IS NOT NULL AS attached;
SELECT invoicing.attach_payment('in_jsn2', 'pi_jsn2_08') IS NOT NULL AS attached;
SELECT invoicing.attach_payment('in_jsn2', 'pi_jsn2_09') IS NOT NULL AS attached;
SELECT invoicing.attach_payment('in_jsn2', 'pi_jsn2_10') IS NOT NULL AS attached;
SELECT jsonb_array_length(j->'payments'->'data') AS payments, j->'payments'->'has_more' AS has_more
  FROM invoicing.invoice_json('in_jsn2', '{payments}') AS j;
SELECT invoicing.attach_payment('in_jsn2', 'pi_jsn2_11') IS NOT NULL AS attached;
SELECT jsonb_array_length(j->'payments'->'data') AS payments, j->'payments'->'has_more' AS has_more,
       j->'payments'->>'url' AS url
  FROM invoicing.invoice_json('in_jsn2', '{payments}') AS j;
SELECT n, p->'payment'->>'payment_intent' AS payment_intent, p->'amount_requested' AS amount_requested
  FROM invoicing.invoice_json('in_jsn2', '{payments}') AS j,
       jsonb_array_elements(j->'payments'->'data') WITH ORDINALITY AS e(p, n)
 ORDER BY n;

-- Payments created in one transaction (the same created) are ordered by
-- insertion, newest first.
SELECT invoicing.create_invoice('cus_jsn1', 'usd', id => 'in_jsn3');
SELECT invoicing.add_invoice_line('in_jsn3', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_jsn3') IS NOT NULL AS finalized;
SELECT invoicing.create_payment_intent('cus_jsn1', 'usd', 1000, id => 'pi_jsn3a');
SELECT invoicing.create_payment_intent('cus_jsn1', 'usd', 1000, id => 'pi_jsn3b');
SELECT invoicing.create_payment_intent('cus_jsn1', 'usd', 1000, id => 'pi_jsn3c');
BEGIN;
SELECT invoicing.attach_payment('in_jsn3', 'pi_jsn3b') IS NOT NULL AS attached;
SELECT invoicing.attach_payment('in_jsn3', 'pi_jsn3c') IS NOT NULL AS attached;
SELECT invoicing.attach_payment('in_jsn3', 'pi_jsn3a') IS NOT NULL AS attached;
COMMIT;
SELECT n, p->'payment'->>'payment_intent' AS payment_intent
  FROM invoicing.invoice_json('in_jsn3', '{payments}') AS j,
       jsonb_array_elements(j->'payments'->'data') WITH ORDINALITY AS e(p, n)
 ORDER BY n;

-- Customer balance transactions: adjust_customer_balance returns the object.
SELECT invoicing.adjust_customer_balance('cus_jsn1', 'usd', -2500, 'goodwill') AS adj \gset
SELECT :'adj'::jsonb = invoicing.customer_balance_transaction_json(:'adj'::jsonb->>'id') AS same_as_json;
SELECT pg_temp.keys(:'adj'::jsonb);
SELECT j->>'object' AS object, j->'amount' AS amount, j->'ending_balance' AS ending_balance,
       j->>'currency' AS currency, j->>'customer' AS customer, j->>'description' AS description,
       j->'invoice' AS invoice, j->'credit_note' AS credit_note, j->>'type' AS type,
       j->'livemode' AS livemode, j->'metadata' AS metadata, pg_temp.is_int(j->'created') AS created_int,
       j->>'id' ~ '^cbtxn_[0-9A-Za-z]{24}$' AS id_shape
  FROM (SELECT :'adj'::jsonb AS j) s;
-- the credit is applied to the next invoice: negative starting_balance and
-- an applied_to_invoice transaction naming it
SELECT invoicing.create_invoice('cus_jsn1', 'usd', id => 'in_jsn5');
SELECT invoicing.add_invoice_line('in_jsn5', 1000) IS NOT NULL AS added;
SELECT j->>'status' AS status, j->'starting_balance' AS starting_balance,
       j->'ending_balance' AS ending_balance, j->'amount_due' AS amount_due
  FROM invoicing.finalize_invoice('in_jsn5') AS j;
SELECT j->>'type' AS type, j->'amount' AS amount, j->'ending_balance' AS ending_balance,
       j->>'invoice' AS invoice, j->'description' AS description
  FROM invoicing.customer_balance_transactions t, invoicing.customer_balance_transaction_json(t.id) AS j
 WHERE t.invoice = 'in_jsn5';

-- Metadata is rendered as an object; amounts near 2^63 stay exact integers.
UPDATE invoicing.invoices SET metadata = '{"order": "A-17", "note": "x\"y"}' WHERE id = 'in_jsn5';
SELECT j->'metadata' AS metadata FROM invoicing.invoice_json('in_jsn5') AS j;
SELECT invoicing.create_invoice('cus_jsn1', 'usd', id => 'in_jsn6');
SELECT invoicing.add_invoice_line('in_jsn6', 9223372036854775807) IS NOT NULL AS added;
SELECT j->'total' AS total, j->'amount_due' AS amount_due, pg_temp.is_int(j->'total') AS integer
  FROM invoicing.invoice_json('in_jsn6') AS j;
SELECT invoicing.create_payment_intent('cus_jsn1', 'usd', 9223372036854775807, id => 'pi_jsn_max');
SELECT j->'amount' AS amount FROM invoicing.payment_intent_json('pi_jsn_max') AS j;
DELETE FROM invoicing.invoices WHERE id = 'in_jsn6';

-- Objects that do not exist: P0002.
SELECT invoicing.invoice_json('in_jsn_missing');
SELECT invoicing.invoice_json('in_jsn_missing', '{payments}');
SELECT invoicing.invoice_payment_json('inpay_jsn_missing');
SELECT invoicing.payment_intent_json('pi_jsn_missing');
SELECT invoicing.customer_balance_transaction_json('cbtxn_jsn_missing');
SELECT * FROM invoicing.check_invariants();
