-- credit_notes: rule C on a partially paid invoice (issue 3, SPEC rule C, rule
-- CV, invariants 4 and 5; research S5): the pre/post split, mixed type,
-- dispositions that must cover the post part exactly, the total as the
-- limit, voiding only while the invoice is open.  Ids carry "cnm".
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

-- S5: invoice 10000, 4000 paid through a PaymentIntent.
SELECT invoicing.create_customer('cnm1@example.com', 'Cnm One', 'cus_cnm1');
SELECT pg_temp.open_invoice('in_cnm1', 'cus_cnm1', 10000);
SELECT pg_temp.pay('in_cnm1', 'pi_cnm1', 4000);
SELECT * FROM inv WHERE id = 'in_cnm1';

-- Credit note 7000 with refund_amount 1000: pre = min(7000, remaining 6000)
-- = 6000, post = 1000, mixed.  amount_due = 10000 - 6000 = 4000, remaining
-- max(0, 4000 - 4000) = 0: the invoice is paid.  Counters 6000 / 1000.  One
-- refund of 1000, on the only paid payment.  No balance transaction.
SELECT invoicing.create_credit_note('in_cnm1', 7000, refund_amount => 1000) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM inv WHERE id = 'in_cnm1';
SELECT * FROM cn WHERE invoice = 'in_cnm1' ORDER BY number;
SELECT * FROM ref WHERE invoice = 'in_cnm1' ORDER BY credit_note, payment;
SELECT * FROM pay WHERE invoice = 'in_cnm1' ORDER BY payment;
SELECT pg_temp.balance('cus_cnm1') AS balance,
       (SELECT count(*) FROM txn WHERE customer = 'cus_cnm1') AS transactions;

-- Then 3000 with out_of_band_amount 3000: nothing remains, so pre 0, post
-- 3000, post_payment.  The invoice's amounts do not move; the post counter
-- is 1000 + 3000 = 4000.  No refund, no balance transaction.  10000 credited.
SELECT invoicing.create_credit_note('in_cnm1', 3000, out_of_band_amount => 3000) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM inv WHERE id = 'in_cnm1';
SELECT * FROM cn WHERE invoice = 'in_cnm1' ORDER BY number;
SELECT count(*) AS refunds FROM ref WHERE invoice = 'in_cnm1';
SELECT pg_temp.balance('cus_cnm1') AS balance;

-- Then 1 more (credit_amount 1): 10001 > total 10000: 22023.
SELECT pg_temp.fp('cnm') AS fp \gset
SELECT invoicing.create_credit_note('in_cnm1', 1, credit_amount => 1);
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
-- the same without dispositions, and in DML form
SELECT invoicing.create_credit_note('in_cnm1', 1);
INSERT INTO invoicing.credit_notes (invoice, amount, credit_amount) VALUES ('in_cnm1', 1, 1);
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_cnm1';

-- Voiding the first note: its invoice is paid, not open: 55000, by the
-- function and by DML.
SELECT invoicing.void_credit_note(pg_temp.cn_id('in_cnm1', 1));
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
UPDATE invoicing.credit_notes SET status = 'void' WHERE id = pg_temp.cn_id('in_cnm1', 1);
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
SELECT * FROM cn WHERE invoice = 'in_cnm1' ORDER BY number;
SELECT * FROM inv WHERE id = 'in_cnm1';
SELECT * FROM pg_temp.violations('cnm');

-- From the same start (10000, 4000 paid, 6000 remaining): in_cnm2.
SELECT pg_temp.open_invoice('in_cnm2', 'cus_cnm1', 10000);
SELECT pg_temp.pay('in_cnm2', 'pi_cnm2', 4000);
SELECT * FROM inv WHERE id = 'in_cnm2';
-- 7000 with no dispositions: the post part 1000 is not covered: 22023.
SELECT pg_temp.fp('cnm') AS fp \gset
SELECT invoicing.create_credit_note('in_cnm2', 7000);
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
-- refund_amount 2000: 2000 <> post 1000: 22023.
SELECT invoicing.create_credit_note('in_cnm2', 7000, refund_amount => 2000);
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
-- refund_amount 1000 + credit_amount 1000: 2000 <> 1000: 22023.
SELECT invoicing.create_credit_note('in_cnm2', 7000, refund_amount => 1000, credit_amount => 1000);
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
-- refund_amount 500 (not 1000): 500 <> 1000: 22023.
SELECT invoicing.create_credit_note('in_cnm2', 7000, refund_amount => 500);
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
-- credit_amount on a pure pre-payment note (3000 <= remaining 6000, so post
-- is 0): 22023.
SELECT invoicing.create_credit_note('in_cnm2', 3000, credit_amount => 3000);
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
SELECT invoicing.create_credit_note('in_cnm2', 3000, out_of_band_amount => 1);
SELECT pg_temp.fp('cnm') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_cnm2';
SELECT count(*) AS notes FROM cn WHERE invoice = 'in_cnm2';

-- refund_amount 500 + credit_amount 500: accepted.  mixed 6000 / 1000; a
-- refund of 500; a credit_note balance transaction of -500 linked to the
-- note; the customer's balance -500.  The invoice: due 4000, paid 4000,
-- remaining 0, paid; counters 6000 / 1000.  This is the invoice's first
-- note: the failed attempts took no number.
SELECT invoicing.create_credit_note('in_cnm2', 7000, refund_amount => 500, credit_amount => 500) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM inv WHERE id = 'in_cnm2';
SELECT * FROM cn WHERE invoice = 'in_cnm2' ORDER BY number;
SELECT * FROM ref WHERE invoice = 'in_cnm2' ORDER BY credit_note, payment;
SELECT * FROM pay WHERE invoice = 'in_cnm2' ORDER BY payment;
SELECT customer, currency, type, amount, ending_balance, invoice, credit_note, linked
  FROM txn WHERE customer = 'cus_cnm1' ORDER BY created, seq;
SELECT pg_temp.balance('cus_cnm1') AS balance;
SELECT * FROM pg_temp.violations('cnm');
