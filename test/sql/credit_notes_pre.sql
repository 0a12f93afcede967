-- credit_notes_pre: pre-payment credit notes and voiding them (issue 3; SPEC
-- rule C, rule CV, invariants 2, 4, 5 and 7; research S6, S7): the pre part
-- lowers amount_due, a void gives it back, a note can close an invoice with
-- no new payment, the total is the limit, void notes keep their numbers,
-- uncollectible invoices, open payments, drafts and void invoices.  Ids
-- carry "cnp".
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

SELECT invoicing.create_customer('cnp1@example.com', 'Cnp One', 'cus_cnp1');

-- S6: invoice 10000, 2000 paid.
SELECT pg_temp.open_invoice('in_cnp1', 'cus_cnp1', 10000);
SELECT pg_temp.pay('in_cnp1', 'pi_cnp1', 2000);
SELECT * FROM inv WHERE id = 'in_cnp1';
-- 3000, no dispositions: 3000 <= remaining 8000, so pre 3000, post 0,
-- pre_payment.  amount_due 10000 - 3000 = 7000, remaining 7000 - 2000 =
-- 5000, still open; counters 3000 / 0.
SELECT invoicing.create_credit_note('in_cnp1', 3000) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM inv WHERE id = 'in_cnp1';
-- the same with credit_amount 3000: post is 0, so the dispositions must be
-- 0: 22023
SELECT pg_temp.fp('cnp') AS fp \gset
SELECT invoicing.create_credit_note('in_cnp1', 3000, credit_amount => 3000);
SELECT pg_temp.fp('cnp') = :'fp' AS unchanged;
-- Void it (rule CV): the invoice is open.  The note is void with voided_at
-- set; the pre part goes back: amount_due 10000, remaining 8000, counter 0.
SELECT invoicing.void_credit_note(pg_temp.cn_id('in_cnp1', 1)) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT jsonb_typeof(j->'voided_at') AS voided_at,
       (j->>'voided_at')::bigint = extract(epoch FROM date_trunc('second', c.voided_at))::bigint
         AS voided_at_matches
  FROM (SELECT :'j'::jsonb AS j) s JOIN invoicing.credit_notes c ON c.id = s.j->>'id';
SELECT * FROM inv WHERE id = 'in_cnp1';
SELECT * FROM cn WHERE invoice = 'in_cnp1' ORDER BY number;
-- voiding it again: 55000
SELECT pg_temp.fp('cnp') AS fp \gset
SELECT invoicing.void_credit_note(pg_temp.cn_id('in_cnp1', 1));
SELECT pg_temp.fp('cnp') = :'fp' AS unchanged;
-- Then 8000, no dispositions: 8000 <= remaining 8000: pre_payment 8000/0.
-- amount_due 2000 = amount_paid: remaining 0, paid, with no new payment.
-- Its number is -CN-02: the void note keeps -CN-01.
SELECT invoicing.create_credit_note('in_cnp1', 8000) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM inv WHERE id = 'in_cnp1';
SELECT * FROM pay WHERE invoice = 'in_cnp1' ORDER BY payment;
SELECT * FROM cn WHERE invoice = 'in_cnp1' ORDER BY number;
-- Voiding that: the invoice is no longer open: 55000, by the function and
-- by DML; and the void one is still void.
SELECT pg_temp.fp('cnp') AS fp \gset
SELECT invoicing.void_credit_note(pg_temp.cn_id('in_cnp1', 2));
SELECT pg_temp.fp('cnp') = :'fp' AS unchanged;
UPDATE invoicing.credit_notes SET status = 'void' WHERE id = pg_temp.cn_id('in_cnp1', 2);
SELECT pg_temp.fp('cnp') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_cnp1';
SELECT * FROM cn WHERE invoice = 'in_cnp1' ORDER BY number;
SELECT * FROM pg_temp.violations('cnp');

-- S7: no payments.  A credit note of the whole total: pre_payment
-- 10000/0; amount_due 0, remaining 0: paid.
SELECT pg_temp.open_invoice('in_cnp2', 'cus_cnp1', 10000);
SELECT invoicing.create_credit_note('in_cnp2', 10000) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM inv WHERE id = 'in_cnp2';
-- any further credit note: the total is fully credited: 22023, whatever
-- the dispositions
SELECT pg_temp.fp('cnp') AS fp \gset
SELECT invoicing.create_credit_note('in_cnp2', 1);
SELECT invoicing.create_credit_note('in_cnp2', 1, credit_amount => 1);
SELECT invoicing.create_credit_note('in_cnp2', 1, out_of_band_amount => 1);
INSERT INTO invoicing.credit_notes (invoice, amount, out_of_band_amount) VALUES ('in_cnp2', 1, 1);
SELECT pg_temp.fp('cnp') = :'fp' AS unchanged;
-- and it cannot be voided now: the invoice is paid
SELECT invoicing.void_credit_note(pg_temp.cn_id('in_cnp2', 1));
SELECT pg_temp.fp('cnp') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_cnp2';
SELECT * FROM pg_temp.violations('cnp');

-- Several pre-payment notes add up; the limit is the total, counting only
-- issued notes.  in_cnp3: 10000, nothing paid.
SELECT pg_temp.open_invoice('in_cnp3', 'cus_cnp1', 10000);
SELECT (invoicing.create_credit_note('in_cnp3', 4000))->>'type' AS type;
SELECT (invoicing.create_credit_note('in_cnp3', 4000))->>'type' AS type;
SELECT * FROM inv WHERE id = 'in_cnp3';
-- 2001 > 10000 - 8000: 22023
SELECT pg_temp.fp('cnp') AS fp \gset
SELECT invoicing.create_credit_note('in_cnp3', 2001);
SELECT pg_temp.fp('cnp') = :'fp' AS unchanged;
-- void the second: 6000 is creditable again; 6000 closes the invoice
SELECT (invoicing.void_credit_note(pg_temp.cn_id('in_cnp3', 2)))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_cnp3';
SELECT (invoicing.create_credit_note('in_cnp3', 6000))->>'type' AS type;
SELECT * FROM inv WHERE id = 'in_cnp3';
SELECT * FROM cn WHERE invoice = 'in_cnp3' ORDER BY number;
SELECT * FROM pg_temp.violations('cnp');

-- Uncollectible invoices take credit notes (rule C) but their notes cannot
-- be voided (rule CV: only while the invoice is open).  in_cnp4: 10000,
-- marked uncollectible.
SELECT pg_temp.open_invoice('in_cnp4', 'cus_cnp1', 10000);
SELECT (invoicing.mark_uncollectible('in_cnp4'))->>'status' AS status;
SELECT (invoicing.create_credit_note('in_cnp4', 3000))->>'type' AS type;
SELECT * FROM inv WHERE id = 'in_cnp4';
SELECT pg_temp.fp('cnp') AS fp \gset
SELECT invoicing.void_credit_note(pg_temp.cn_id('in_cnp4', 1));
SELECT pg_temp.fp('cnp') = :'fp' AS unchanged;
-- a note that brings amount_remaining to 0 makes it paid (invariant 7)
SELECT (invoicing.create_credit_note('in_cnp4', 7000))->>'type' AS type;
SELECT * FROM inv WHERE id = 'in_cnp4';
SELECT * FROM cn WHERE invoice = 'in_cnp4' ORDER BY number;
SELECT * FROM pg_temp.violations('cnp');

-- Credit notes are allowed while payments are open.  in_cnp5: 10000 with
-- pi_cnp5 8000 attached and still open.  A note of 5000: pre 5000 (nothing
-- is paid yet), amount_due 5000.  Then pi_cnp5 succeeds: 8000 paid on 5000
-- due: paid, amount_overpaid 3000, an invoice_overpaid transaction -3000.
SELECT pg_temp.open_invoice('in_cnp5', 'cus_cnp1', 10000);
SELECT invoicing.create_payment_intent('cus_cnp1', 'usd', 8000, id => 'pi_cnp5');
SELECT (invoicing.attach_payment('in_cnp5', 'pi_cnp5'))->>'status' AS status;
SELECT invoicing.create_credit_note('in_cnp5', 5000) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM inv WHERE id = 'in_cnp5';
SELECT (invoicing.update_payment_intent('pi_cnp5', 'succeeded'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_cnp5';
SELECT customer, currency, type, amount, ending_balance, invoice, credit_note
  FROM txn WHERE customer = 'cus_cnp1' ORDER BY created, seq;
SELECT pg_temp.balance('cus_cnp1') AS balance;
SELECT * FROM pg_temp.violations('cnp');

-- Drafts and void invoices take no credit note (rule C): 55000.  in_cnp6 is
-- a draft, in_cnp7 void (another customer, with no balance).
SELECT invoicing.create_customer(id => 'cus_cnp2');
SELECT invoicing.create_invoice('cus_cnp2', 'usd', id => 'in_cnp6');
SELECT invoicing.add_invoice_line('in_cnp6', 10000) IS NOT NULL AS added;
SELECT pg_temp.open_invoice('in_cnp7', 'cus_cnp2', 10000);
SELECT (invoicing.void_invoice('in_cnp7'))->>'status' AS status;
SELECT pg_temp.fp('cnp') AS fp \gset
SELECT invoicing.create_credit_note('in_cnp6', 1000);
INSERT INTO invoicing.credit_notes (invoice, amount) VALUES ('in_cnp6', 1000);
SELECT invoicing.create_credit_note('in_cnp7', 1000);
INSERT INTO invoicing.credit_notes (invoice, amount) VALUES ('in_cnp7', 1000);
SELECT pg_temp.fp('cnp') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id IN ('in_cnp6', 'in_cnp7') ORDER BY id;
SELECT * FROM pg_temp.violations('cnp');
