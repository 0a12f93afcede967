-- events_flow: the event outbox (SPEC 6) for the changes 0.1 and 0.2 make.
-- For each change: the exact sequence of event types (read with
--   SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq),
-- a summary of each event's data.object, the old values in
-- previous_attributes, and a check of every payload (envelope keys and JSON
-- types, data.object = the object after the change, previous_attributes =
-- the old values of exactly the changed keys).  At the end: one whole
-- payload of every event type, generated ids, numbers and times masked.
-- Ids carry "evf".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\set VERBOSITY sqlstate

-- mask(j): j with generated ids ("inpay_<id>", "cn_<id>"), invoice numbers ("INV-<n>")
-- and Unix times ("<time>") replaced, so the output is stable.  A time that
-- is not a JSON integer shows as "<BAD TIME ...>".
CREATE FUNCTION pg_temp.mask(j jsonb) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  r jsonb;
  k text;
  v jsonb;
  s text;
BEGIN
  CASE jsonb_typeof(j)
  WHEN 'object' THEN
    r := '{}';
    FOR k, v IN SELECT * FROM jsonb_each(j) LOOP
      IF k IN ('created', 'finalized_at', 'marked_uncollectible_at', 'paid_at', 'voided_at',
               'canceled_at') AND jsonb_typeof(v) <> 'null' THEN
        IF jsonb_typeof(v) = 'number' AND v::text ~ '^[0-9]+$' AND v::text::bigint > 1500000000 THEN
          r := r || jsonb_build_object(k, '<time>');
        ELSE
          r := r || jsonb_build_object(k, '<BAD TIME ' || v::text || '>');
        END IF;
      ELSE
        r := r || jsonb_build_object(k, pg_temp.mask(v));
      END IF;
    END LOOP;
    RETURN r;
  WHEN 'array' THEN
    RETURN coalesce((SELECT jsonb_agg(pg_temp.mask(e) ORDER BY o)
                       FROM jsonb_array_elements(j) WITH ORDINALITY AS a(e, o)), '[]');
  WHEN 'string' THEN
    s := j #>> '{}';
    s := regexp_replace(s, '^(evt|inpay|re|cbtxn|prec|cn|il)_[0-9A-Za-z]{24}$', '\1_<id>');
    s := regexp_replace(s, '^INV-[0-9]{6}', 'INV-<n>');
    RETURN to_jsonb(s);
  ELSE
    RETURN j;
  END CASE;
END $$;

-- label(event row): the object an event is about, stably named.
CREATE FUNCTION pg_temp.label(e invoicing.events) RETURNS text LANGUAGE sql AS $$
  SELECT CASE e.payload->'data'->'object'->>'object'
    WHEN 'invoice_payment' THEN
      'inpay(' || (e.payload->'data'->'object'->'payment'->>'type') || ' '
      || coalesce(e.payload->'data'->'object'->'payment'->>'payment_intent',
                  regexp_replace(e.payload->'data'->'object'->'payment'->>'payment_record',
                                 '^prec_[0-9A-Za-z]{24}$', 'prec_<id>'))
      || ' of ' || (e.payload->'data'->'object'->>'invoice') || ')'
    ELSE pg_temp.mask(to_jsonb(e.object_id)) #>> '{}' END
$$;

-- summary(o): the money and state of an event's data.object, on one line.
CREATE FUNCTION pg_temp.summary(o jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT CASE o->>'object'
    WHEN 'invoice' THEN format('%s due=%s paid=%s remaining=%s overpaid=%s pre=%s post=%s start=%s end=%s paid_at=%s',
      o->>'status', o->'amount_due', o->'amount_paid', o->'amount_remaining', o->'amount_overpaid',
      o->'pre_payment_credit_notes_amount', o->'post_payment_credit_notes_amount',
      o->'starting_balance', o->'ending_balance',
      CASE WHEN o->'status_transitions'->'paid_at' = 'null' THEN 'null' ELSE 'set' END)
    WHEN 'invoice_payment' THEN format('%s requested=%s paid=%s paid_at=%s canceled_at=%s',
      o->>'status', o->'amount_requested', o->'amount_paid',
      CASE WHEN o->'status_transitions'->'paid_at' = 'null' THEN 'null' ELSE 'set' END,
      CASE WHEN o->'status_transitions'->'canceled_at' = 'null' THEN 'null' ELSE 'set' END)
    WHEN 'credit_note' THEN format('%s %s amount=%s pre=%s post=%s oob=%s refunds=%s cbtxn=%s voided_at=%s',
      o->>'status', o->>'type', o->'amount', o->'pre_payment_amount', o->'post_payment_amount',
      o->'out_of_band_amount', pg_temp.mask(o->'refunds'),
      pg_temp.mask(o->'customer_balance_transaction'),
      CASE WHEN o->'voided_at' = 'null' THEN 'null' ELSE 'set' END)
    ELSE 'unexpected object ' || (o->>'object') END
$$;

-- changed(before, after): the old values of the keys whose values differ.
CREATE FUNCTION pg_temp.changed(before jsonb, after jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT coalesce(jsonb_object_agg(k, coalesce(before->k, 'null')), '{}')
    FROM (SELECT jsonb_object_keys(after) AS k) keys
   WHERE before->k IS DISTINCT FROM after->k
$$;

-- events(after, before): this step's events in order: type, object,
-- summary of data.object, previous_attributes (masked), and whether
-- previous_attributes = changed(before, data.object) (before: the invoice's
-- JSON taken before the step; null when not given).
CREATE FUNCTION pg_temp.events(after bigint, before jsonb DEFAULT NULL)
RETURNS TABLE (type text, object text, summary text, previous_attributes jsonb, prev_ok boolean)
LANGUAGE sql AS $$
  SELECT e.type, pg_temp.label(e), pg_temp.summary(e.payload->'data'->'object'),
         pg_temp.mask(e.payload->'data'->'previous_attributes'),
         CASE WHEN e.payload->'data' ? 'previous_attributes' AND before IS NOT NULL
              THEN e.payload->'data'->'previous_attributes'
                   = pg_temp.changed(before, e.payload->'data'->'object') END
    FROM invoicing.events e WHERE e.seq > after ORDER BY e.seq
$$;

-- type_problems(j, path): amounts and times that are not JSON integers.
CREATE FUNCTION pg_temp.type_problems(j jsonb, path text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  k text;
  v jsonb;
  i int;
BEGIN
  IF jsonb_typeof(j) = 'object' THEN
    FOR k, v IN SELECT * FROM jsonb_each(j) LOOP
      IF k IN ('amount', 'amount_due', 'amount_overpaid', 'amount_remaining', 'amount_requested',
               'amount_refunded', 'out_of_band_amount', 'post_payment_amount', 'pre_payment_amount',
               'post_payment_credit_notes_amount', 'pre_payment_credit_notes_amount',
               'starting_balance', 'subtotal', 'total', 'pending_webhooks', 'created')
         AND NOT (jsonb_typeof(v) = 'number' AND v::text ~ '^-?[0-9]+$') THEN
        RETURN NEXT path || '.' || k || ' is not an integer: ' || v::text;
      ELSIF k IN ('amount_paid', 'ending_balance', 'finalized_at', 'marked_uncollectible_at',
                  'paid_at', 'voided_at', 'canceled_at')
         AND NOT (jsonb_typeof(v) = 'null' OR (jsonb_typeof(v) = 'number' AND v::text ~ '^-?[0-9]+$')) THEN
        RETURN NEXT path || '.' || k || ' is neither an integer nor null: ' || v::text;
      ELSIF k IN ('livemode', 'is_default') AND jsonb_typeof(v) <> 'boolean' THEN
        RETURN NEXT path || '.' || k || ' is not a boolean: ' || v::text;
      ELSIF k = 'metadata' AND jsonb_typeof(v) <> 'object' THEN
        RETURN NEXT path || '.' || k || ' is not an object: ' || v::text;
      ELSE
        RETURN QUERY SELECT pg_temp.type_problems(v, path || '.' || k);
      END IF;
    END LOOP;
  ELSIF jsonb_typeof(j) = 'array' THEN
    FOR i IN 0 .. jsonb_array_length(j) - 1 LOOP
      RETURN QUERY SELECT pg_temp.type_problems(j->i, path || '[' || i || ']');
    END LOOP;
  END IF;
END $$;

-- problems(after): every problem with the payloads of the events after a
-- seq; checked right after the change, so "the object after the change" is
-- the object as invoicing renders it now.  No rows = all hold.
CREATE FUNCTION pg_temp.problems(after bigint)
RETURNS TABLE (n bigint, type text, problem text) LANGUAGE sql AS $$
  WITH e AS (
    SELECT row_number() OVER (ORDER BY seq) AS n, e.*, e.payload AS p,
           e.payload->'data'->'object' AS o
      FROM invoicing.events e WHERE seq > after
  ), kinds AS (
    SELECT e.*, CASE split_part(e.type, '.', 1)
             WHEN 'invoice' THEN 'invoice' WHEN 'invoice_payment' THEN 'invoice_payment'
             WHEN 'credit_note' THEN 'credit_note' END AS kind
      FROM e
  ), checks AS (
    SELECT n, type, problem FROM kinds, LATERAL (VALUES
      (CASE WHEN (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(p) k)
                 <> '{api_version,created,data,id,livemode,object,pending_webhooks,request,type}'
            THEN 'event keys: ' || (SELECT string_agg(k, ' ' ORDER BY k) FROM jsonb_object_keys(p) k) END),
      (CASE WHEN p->>'id' IS DISTINCT FROM id OR id !~ '^evt_[0-9A-Za-z]{24}$'
            THEN 'id is not the row id or not evt_ + 24 characters' END),
      (CASE WHEN p->'object' IS DISTINCT FROM '"event"' THEN 'object is not "event"' END),
      (CASE WHEN p->'api_version' IS DISTINCT FROM '"2025-05-28.basil"' THEN 'api_version: ' || (p->'api_version')::text END),
      (CASE WHEN jsonb_typeof(p->'created') <> 'number' OR (p->'created')::text !~ '^[0-9]+$'
              OR (p->>'created')::bigint <> floor(extract(epoch FROM created))::bigint
            THEN 'created is not the integer Unix time of the row' END),
      (CASE WHEN p->'livemode' IS DISTINCT FROM 'false' THEN 'livemode is not false' END),
      (CASE WHEN p->'pending_webhooks' IS DISTINCT FROM '0' THEN 'pending_webhooks is not 0' END),
      (CASE WHEN p->'request' IS DISTINCT FROM '{"id": null, "idempotency_key": null}'
            THEN 'request: ' || (p->'request')::text END),
      (CASE WHEN p->>'type' IS DISTINCT FROM type THEN 'type is not the row type' END),
      (CASE WHEN kind IS NULL OR type NOT IN ('invoice.finalized', 'invoice.updated', 'invoice.paid',
               'invoice.payment_succeeded', 'invoice.overpaid', 'invoice.voided',
               'invoice.marked_uncollectible', 'invoice_payment.paid', 'credit_note.created',
               'credit_note.voided')
            THEN 'type not in SPEC 6' END),
      (CASE WHEN (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(p->'data') k)
                 <> CASE WHEN type = 'invoice.updated' THEN '{object,previous_attributes}'::text[]
                         ELSE '{object}' END
            THEN 'data keys: ' || (SELECT string_agg(k, ' ' ORDER BY k) FROM jsonb_object_keys(p->'data') k) END),
      (CASE WHEN type = 'invoice.updated' AND (jsonb_typeof(p->'data'->'previous_attributes') <> 'object'
                                              OR p->'data'->'previous_attributes' = '{}')
            THEN 'previous_attributes is not a non-empty object' END),
      (CASE WHEN o->>'object' IS DISTINCT FROM kind THEN 'data.object.object is not ' || kind END),
      (CASE WHEN o->>'id' IS DISTINCT FROM object_id THEN 'data.object.id is not object_id' END),
      (CASE WHEN o ? 'payments' THEN 'data.object has payments expanded' END),
      (CASE WHEN o IS DISTINCT FROM CASE kind
                   WHEN 'invoice' THEN invoicing.invoice_json(object_id)
                   WHEN 'invoice_payment' THEN invoicing.invoice_payment_json(object_id)
                   WHEN 'credit_note' THEN invoicing.credit_note_json(object_id) END
            THEN 'data.object is not the object as it is now' END)
    ) AS c(problem)
    UNION ALL
    SELECT n, type, t FROM kinds, LATERAL pg_temp.type_problems(p, '') AS t
  )
  SELECT n, type, problem FROM checks WHERE problem IS NOT NULL ORDER BY n, problem
$$;

SELECT coalesce(max(seq), 0) AS start FROM invoicing.events \gset

-- ===== A partial payment success =====
SELECT invoicing.create_customer(id => 'cus_evf_a');
SELECT invoicing.create_invoice('cus_evf_a', 'usd', id => 'in_evf_a');
SELECT invoicing.add_invoice_line('in_evf_a', 10000) IS NOT NULL AS added;
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
-- finalization: invoice.finalized only (no invoice.updated)
SELECT invoicing.finalize_invoice('in_evf_a')->>'status' AS status;
SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq;
SELECT type, object, summary, previous_attributes FROM pg_temp.events(:last);
SELECT * FROM pg_temp.problems(:last);
-- attaching a PaymentIntent that has not succeeded changes no invoice key:
-- no event
SELECT invoicing.create_payment_intent('cus_evf_a', 'usd', 3000, id => 'pi_evf_a1');
SELECT invoicing.create_payment_intent('cus_evf_a', 'usd', 7000, id => 'pi_evf_a2');
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.attach_payment('in_evf_a', 'pi_evf_a1')->>'amount_paid' AS amount_paid;
SELECT invoicing.attach_payment('in_evf_a', 'pi_evf_a2')->>'amount_paid' AS amount_paid;
SELECT invoicing.update_payment_intent('pi_evf_a1', 'processing')->>'status' AS status;
SELECT count(*) AS events FROM invoicing.events WHERE seq > :last;
-- the first PaymentIntent succeeds: invoice_payment.paid, then
-- invoice.updated with the old amount_paid and amount_remaining
SELECT invoicing.invoice_json('in_evf_a') AS before \gset
SELECT invoicing.update_payment_intent('pi_evf_a1', 'succeeded')->>'status' AS status;
SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq;
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);
-- the same final status reported again: nothing changes, no event
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.update_payment_intent('pi_evf_a1', 'succeeded')->>'status' AS status;
SELECT invoicing.attach_payment('in_evf_a', 'pi_evf_a1')->>'amount_paid' AS amount_paid;
SELECT count(*) AS events FROM invoicing.events WHERE seq > :last;

-- ===== A payment that completes the invoice =====
-- invoice_payment.paid, invoice.updated (amounts, status, status_transitions),
-- invoice.paid, invoice.payment_succeeded
SELECT invoicing.invoice_json('in_evf_a') AS before \gset
SELECT invoicing.update_payment_intent('pi_evf_a2', 'succeeded')->>'status' AS status;
SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq;
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);
-- the old status_transitions: paid_at was null, the rest unchanged
SELECT pg_temp.mask(payload->'data'->'previous_attributes'->'status_transitions') AS old_transitions,
       (payload->'data'->'previous_attributes'->'status_transitions'->'finalized_at')
         = (payload->'data'->'object'->'status_transitions'->'finalized_at') AS finalized_at_kept
  FROM invoicing.events WHERE seq > :last AND type = 'invoice.updated';

-- ===== An overpayment =====
-- three PaymentIntents, each <= amount_remaining when attached, 15000 in all
-- for 10000 due
SELECT invoicing.create_customer(id => 'cus_evf_c');
SELECT invoicing.create_invoice('cus_evf_c', 'usd', id => 'in_evf_c');
SELECT invoicing.add_invoice_line('in_evf_c', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_evf_c')->>'status' AS status;
SELECT invoicing.create_payment_intent('cus_evf_c', 'usd', 6000, id => 'pi_evf_c1');
SELECT invoicing.create_payment_intent('cus_evf_c', 'usd', 6000, id => 'pi_evf_c2');
SELECT invoicing.create_payment_intent('cus_evf_c', 'usd', 3000, id => 'pi_evf_c3');
SELECT invoicing.attach_payment('in_evf_c', 'pi_evf_c1')->>'amount_remaining' AS amount_remaining;
SELECT invoicing.attach_payment('in_evf_c', 'pi_evf_c2')->>'amount_remaining' AS amount_remaining;
SELECT invoicing.attach_payment('in_evf_c', 'pi_evf_c3')->>'amount_remaining' AS amount_remaining;
SELECT invoicing.update_payment_intent('pi_evf_c1', 'succeeded')->>'status' AS status;
-- the second one pays and overpays: invoice.overpaid comes last
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_c') AS before \gset
SELECT invoicing.update_payment_intent('pi_evf_c2', 'succeeded')->>'status' AS status;
SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq;
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);
-- the third one, through plain DML, on the paid invoice: amount_overpaid
-- grows again, so invoice.overpaid again; no invoice.paid (already paid)
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_c') AS before \gset
UPDATE invoicing.payment_intents SET status = 'succeeded' WHERE id = 'pi_evf_c3';
SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq;
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);
-- the overpaid growth went to the customer's balance (balance transactions
-- have no event of their own)
SELECT type, amount, ending_balance FROM invoicing.customer_balance_transactions
 WHERE invoice = 'in_evf_c' ORDER BY seq;

-- ===== A credit note that closes an invoice =====
SELECT invoicing.create_customer(id => 'cus_evf_d');
SELECT invoicing.create_invoice('cus_evf_d', 'usd', id => 'in_evf_d');
SELECT invoicing.add_invoice_line('in_evf_d', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_evf_d')->>'status' AS status;
-- an out-of-band payment of 4000: a payment_record payment, paid at once
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_d') AS before \gset
SELECT invoicing.attach_out_of_band_payment('in_evf_d', 4000, 'cheque 17')->>'amount_paid' AS amount_paid;
SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq;
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);
-- a credit note for the 6000 remaining: credit_note.created,
-- invoice.updated, invoice.paid; amount_paid did not grow, so no
-- invoice.payment_succeeded
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_d') AS before \gset
SELECT invoicing.create_credit_note('in_evf_d', 6000, reason => 'order_change', memo => 'closing')->>'type' AS type;
SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq;
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);
-- a post-payment credit note on the paid invoice, credited to the balance:
-- credit_note.created, invoice.updated (post_payment_credit_notes_amount)
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_d') AS before \gset
SELECT invoicing.create_credit_note('in_evf_d', 1000, credit_amount => 1000)->>'type' AS type;
SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq;
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);
SELECT (payload->'data'->'object'->>'customer_balance_transaction')
         = (SELECT id FROM invoicing.customer_balance_transactions
             WHERE invoice = 'in_evf_d' AND type = 'credit_note') AS names_its_transaction
  FROM invoicing.events WHERE seq > :last AND type = 'credit_note.created';
-- a refund: a PaymentIntent payment on in_evf_c refunded by a credit note
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_c') AS before \gset
SELECT invoicing.create_credit_note('in_evf_c', 2500, refund_amount => 2500)->>'type' AS type;
SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq;
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);
SELECT (SELECT jsonb_agg(r->'refund' ORDER BY o) FROM jsonb_array_elements(payload->'data'->'object'->'refunds') WITH ORDINALITY a(r, o))
         = (SELECT jsonb_agg(to_jsonb(id) ORDER BY seq) FROM invoicing.refunds
             WHERE credit_note = payload->'data'->'object'->>'id') AS names_its_refunds
  FROM invoicing.events WHERE seq > :last AND type = 'credit_note.created';

-- ===== A credit note voided =====
SELECT invoicing.create_invoice('cus_evf_a', 'usd', id => 'in_evf_e');
SELECT invoicing.add_invoice_line('in_evf_e', 5000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_evf_e')->>'status' AS status;
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_e') AS before \gset
SELECT invoicing.create_credit_note('in_evf_e', 2000)->>'id' AS cn \gset
SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq;
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);
-- credit_note.voided, then invoice.updated: amount_due rises again
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_e') AS before \gset
SELECT invoicing.void_credit_note(:'cn')->>'status' AS status;
SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq;
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);

-- ===== A void =====
-- invoice.updated (status, status_transitions), then invoice.voided
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_e') AS before \gset
SELECT invoicing.void_invoice('in_evf_e')->>'status' AS status;
SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq;
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);
-- a void that gives back the balance applied at finalization
SELECT invoicing.create_customer(id => 'cus_evf_f');
SELECT invoicing.adjust_customer_balance('cus_evf_f', 'usd', -2000)->>'ending_balance' AS balance;
SELECT invoicing.create_invoice('cus_evf_f', 'usd', id => 'in_evf_f');
SELECT invoicing.add_invoice_line('in_evf_f', 5000) IS NOT NULL AS added;
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.finalize_invoice('in_evf_f')->>'status' AS status;
SELECT * FROM pg_temp.events(:last);
SELECT * FROM pg_temp.problems(:last);
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_f') AS before \gset
SELECT invoicing.void_invoice('in_evf_f')->>'status' AS status;
SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq;
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);
SELECT type, amount, ending_balance FROM invoicing.customer_balance_transactions
 WHERE customer = 'cus_evf_f' ORDER BY seq;

-- ===== Uncollectible, then paid out of band =====
SELECT invoicing.create_invoice('cus_evf_a', 'usd', id => 'in_evf_g');
SELECT invoicing.add_invoice_line('in_evf_g', 4000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_evf_g')->>'status' AS status;
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_g') AS before \gset
SELECT invoicing.mark_uncollectible('in_evf_g')->>'status' AS status;
SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq;
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);
-- pay_invoice: invoice_payment.paid (payment_record), invoice.updated,
-- invoice.paid, invoice.payment_succeeded
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_g') AS before \gset
SELECT invoicing.pay_invoice('in_evf_g')->>'status' AS status;
SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq;
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);

-- ===== Attaching a PaymentIntent that already succeeded =====
-- credited at once: the same events as a success
SELECT invoicing.create_invoice('cus_evf_a', 'usd', id => 'in_evf_i');
SELECT invoicing.add_invoice_line('in_evf_i', 2500) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_evf_i')->>'status' AS status;
SELECT invoicing.create_payment_intent('cus_evf_a', 'usd', 2500, 'succeeded', id => 'pi_evf_i1');
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_i') AS before \gset
SELECT invoicing.attach_payment('in_evf_i', 'pi_evf_i1')->>'status' AS status;
SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq;
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);

-- ===== A canceled PaymentIntent =====
-- its payment becomes canceled; the invoice's JSON does not change: no event
SELECT invoicing.create_invoice('cus_evf_a', 'usd', id => 'in_evf_j');
SELECT invoicing.add_invoice_line('in_evf_j', 2500) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_evf_j')->>'status' AS status;
SELECT invoicing.create_payment_intent('cus_evf_a', 'usd', 2500, id => 'pi_evf_j1');
SELECT invoicing.attach_payment('in_evf_j', 'pi_evf_j1')->>'status' AS status;
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.update_payment_intent('pi_evf_j1', 'canceled')->>'status' AS status;
SELECT count(*) AS events FROM invoicing.events WHERE seq > :last;

-- ===== A finalization paid at once by customer credit =====
-- invoice.finalized then invoice.paid; amount_paid did not grow, so no
-- invoice.payment_succeeded; no invoice.updated
SELECT invoicing.create_customer(id => 'cus_evf_h');
SELECT invoicing.adjust_customer_balance('cus_evf_h', 'usd', -10000)->>'ending_balance' AS balance;
SELECT invoicing.create_invoice('cus_evf_h', 'usd', id => 'in_evf_h');
SELECT invoicing.add_invoice_line('in_evf_h', 6000) IS NOT NULL AS added;
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.finalize_invoice('in_evf_h')->>'status' AS status;
SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq;
SELECT * FROM pg_temp.events(:last);
SELECT * FROM pg_temp.problems(:last);
SELECT pg_temp.mask(payload->'data'->'object'->'status_transitions') AS status_transitions
  FROM invoicing.events WHERE seq > :last ORDER BY seq;
-- the rest of the credit (4000) covers part of the next invoice: only
-- invoice.finalized
SELECT invoicing.create_invoice('cus_evf_h', 'usd', id => 'in_evf_h2');
SELECT invoicing.add_invoice_line('in_evf_h2', 5000) IS NOT NULL AS added;
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.finalize_invoice('in_evf_h2')->>'status' AS status;
SELECT * FROM pg_temp.events(:last);
SELECT * FROM pg_temp.problems(:last);
-- a zero total is paid at once too
SELECT invoicing.create_invoice('cus_evf_a', 'usd', id => 'in_evf_h3');
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.finalize_invoice('in_evf_h3')->>'status' AS status;
SELECT * FROM pg_temp.events(:last);
SELECT * FROM pg_temp.problems(:last);

-- ===== Plain DML on an open invoice's own keys =====
-- invoice.updated with the old description and metadata
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_h2') AS before \gset
UPDATE invoicing.invoices SET description = 'March', metadata = '{"order": "o-1"}' WHERE id = 'in_evf_h2';
SELECT type FROM invoicing.events WHERE seq > :last ORDER BY seq;
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);
-- an UPDATE that changes nothing visible emits nothing
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
UPDATE invoicing.invoices SET description = 'March' WHERE id = 'in_evf_h2';
SELECT count(*) AS events FROM invoicing.events WHERE seq > :last;

-- ===== Plain DML writers get the same events =====
-- finalize (status = 'open'), attach a succeeded PaymentIntent (INSERT
-- into invoice_payments), create and void a credit note (INSERT, then
-- status = 'void'), mark uncollectible and void (status updates)
SELECT invoicing.create_customer(id => 'cus_evf_k');
SELECT invoicing.create_invoice('cus_evf_k', 'usd', id => 'in_evf_k');
SELECT invoicing.add_invoice_line('in_evf_k', 9000) IS NOT NULL AS added;
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
UPDATE invoicing.invoices SET status = 'open' WHERE id = 'in_evf_k';
SELECT * FROM pg_temp.events(:last);
SELECT * FROM pg_temp.problems(:last);
SELECT invoicing.create_payment_intent('cus_evf_k', 'usd', 1000, 'succeeded', id => 'pi_evf_k1');
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_k') AS before \gset
INSERT INTO invoicing.invoice_payments (invoice, payment_intent) VALUES ('in_evf_k', 'pi_evf_k1');
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_k') AS before \gset
INSERT INTO invoicing.credit_notes (invoice, amount, reason) VALUES ('in_evf_k', 3000, 'duplicate');
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_k') AS before \gset
UPDATE invoicing.credit_notes SET status = 'void' WHERE invoice = 'in_evf_k';
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_k') AS before \gset
UPDATE invoicing.invoices SET status = 'uncollectible' WHERE id = 'in_evf_k';
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);
-- (void needs no open or paid payment: a second invoice)
SELECT invoicing.create_invoice('cus_evf_k', 'usd', id => 'in_evf_k2');
SELECT invoicing.add_invoice_line('in_evf_k2', 900) IS NOT NULL AS added;
UPDATE invoicing.invoices SET status = 'open' WHERE id = 'in_evf_k2';
SELECT coalesce(max(seq), 0) AS last FROM invoicing.events \gset
SELECT invoicing.invoice_json('in_evf_k2') AS before \gset
UPDATE invoicing.invoices SET status = 'void' WHERE id = 'in_evf_k2';
SELECT * FROM pg_temp.events(:last, :'before');
SELECT * FROM pg_temp.problems(:last);

-- ===== The whole file =====
-- every event of this file, in order, and no payload problem
SELECT row_number() OVER (ORDER BY seq) AS n, type, object
  FROM (SELECT e.seq, e.type, pg_temp.label(e) AS object
          FROM invoicing.events e WHERE seq > :start) x ORDER BY seq;
SELECT count(*) AS problems FROM invoicing.events e, LATERAL pg_temp.type_problems(e.payload, '') t
 WHERE seq > :start;
-- event ids are unique; every event names its object
SELECT count(*) = count(DISTINCT id) AS ids_unique,
       bool_and(object_id IS NOT NULL) AS object_ids_set
  FROM invoicing.events WHERE seq > :start;
-- one whole payload of every type (its first occurrence), masked
\pset format unaligned
\pset tuples_only on
SELECT '---- ' || type || E'\n' || jsonb_pretty(pg_temp.mask(payload))
  FROM (SELECT DISTINCT ON (type) * FROM invoicing.events WHERE seq > :start ORDER BY type, seq) x
 ORDER BY seq;
\pset format aligned
\pset tuples_only off
