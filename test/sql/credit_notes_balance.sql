-- credit_notes_balance: post-payment credit notes and customer balances
-- (issue 3; SPEC rule C, rule F, invariants 4, 5, 8 and 9; research S8, S9):
-- credit_amount becomes a credit_note balance transaction that the next
-- invoice uses; refunds capped by what was paid; notes on invoices that had
-- a balance applied; balances per currency.  Ids carry "cnb".
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

-- S8: a fully paid 5000 invoice; a post-payment note to the customer's
-- balance, applied to the customer's next invoice.
SELECT invoicing.create_customer('cnb1@example.com', 'Cnb One', 'cus_cnb1');
SELECT pg_temp.open_invoice('in_cnb1', 'cus_cnb1', 5000);
SELECT pg_temp.pay('in_cnb1', 'pi_cnb1', 5000);
SELECT * FROM inv WHERE id = 'in_cnb1';
-- 2000 with credit_amount 2000: nothing remains, so pre 0, post 2000,
-- post_payment.  The invoice's amounts do not move (5000 / 5000 / 0, paid);
-- post counter 2000.  A credit_note transaction of -2000 (ending balance
-- -2000) names the invoice and the note, and the note names it.
SELECT invoicing.create_credit_note('in_cnb1', 2000, credit_amount => 2000) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM inv WHERE id = 'in_cnb1';
SELECT customer, currency, type, amount, ending_balance, invoice, credit_note, linked
  FROM txn WHERE customer = 'cus_cnb1' ORDER BY created, seq;
SELECT pg_temp.balance('cus_cnb1') AS balance;
SELECT count(*) AS refunds FROM ref WHERE invoice = 'in_cnb1';
-- the transaction as an object (SPEC 6)
SELECT t->>'object' AS object, t->>'type' AS type, t->>'amount' AS amount,
       t->>'ending_balance' AS ending_balance, t->>'invoice' AS invoice,
       t->>'credit_note' = (:'j'::jsonb)->>'id' AS names_the_note, t->>'customer' AS customer
  FROM invoicing.customer_balance_transaction_json((:'j'::jsonb)->>'customer_balance_transaction') AS t;
-- The customer's next invoice, 3000, finalizes with starting_balance -2000:
-- amount_due 1000, ending_balance 0; an applied_to_invoice transaction of
-- +2000 brings the balance back to 0.
SELECT pg_temp.open_invoice('in_cnb2', 'cus_cnb1', 3000);
SELECT * FROM inv WHERE id = 'in_cnb2';
SELECT customer, currency, type, amount, ending_balance, invoice, credit_note
  FROM txn WHERE customer = 'cus_cnb1' ORDER BY created, seq;
SELECT pg_temp.balance('cus_cnb1') AS balance;
SELECT * FROM pg_temp.violations('cnb');

-- S8, 3': the same credit, then a next invoice of 1500: amount_due 0,
-- ending_balance -500, paid at finalization; applied_to_invoice +1500; the
-- balance is -500.
SELECT invoicing.create_customer(id => 'cus_cnb2');
SELECT pg_temp.open_invoice('in_cnb3', 'cus_cnb2', 5000);
SELECT pg_temp.pay('in_cnb3', 'pi_cnb3', 5000);
SELECT (invoicing.create_credit_note('in_cnb3', 2000, credit_amount => 2000))->>'type' AS type;
SELECT pg_temp.balance('cus_cnb2') AS balance;
SELECT pg_temp.open_invoice('in_cnb4', 'cus_cnb2', 1500);
SELECT * FROM inv WHERE id IN ('in_cnb3', 'in_cnb4') ORDER BY id;
SELECT customer, currency, type, amount, ending_balance, invoice, credit_note
  FROM txn WHERE customer = 'cus_cnb2' ORDER BY created, seq;
SELECT pg_temp.balance('cus_cnb2') AS balance;
SELECT * FROM pg_temp.violations('cnb');

-- S9: customer balance -15000 applied at finalization, then a credit note.
-- in_cnb5: total 20000: starting_balance -15000, amount_due 5000,
-- ending_balance 0.
SELECT invoicing.create_customer(id => 'cus_cnb3');
SELECT (invoicing.adjust_customer_balance('cus_cnb3', 'usd', -15000))->>'ending_balance' AS ending_balance;
SELECT pg_temp.open_invoice('in_cnb5', 'cus_cnb3', 20000);
SELECT * FROM inv WHERE id = 'in_cnb5';
-- PaymentIntent 5000 succeeds: paid.
SELECT pg_temp.pay('in_cnb5', 'pi_cnb5', 5000);
SELECT * FROM inv WHERE id = 'in_cnb5';
-- 8000 with refund_amount 8000: post is 8000 (nothing remains) and the
-- dispositions add up, but only 5000 was paid: 22023.
SELECT pg_temp.fp('cnb') AS fp \gset
SELECT invoicing.create_credit_note('in_cnb5', 8000, refund_amount => 8000);
SELECT pg_temp.fp('cnb') = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_cnb5';
-- 8000 with refund_amount 5000 and credit_amount 3000: accepted (8000 <=
-- total 20000): post_payment 0/8000; a refund of 5000 on pi_cnb5; a
-- credit_note transaction -3000; the balance is -3000.  The invoice's
-- amounts do not move; post counter 8000.
SELECT invoicing.create_credit_note('in_cnb5', 8000, refund_amount => 5000, credit_amount => 3000) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM inv WHERE id = 'in_cnb5';
SELECT * FROM ref WHERE invoice = 'in_cnb5' ORDER BY credit_note, payment;
SELECT customer, currency, type, amount, ending_balance, invoice, credit_note, linked
  FROM txn WHERE customer = 'cus_cnb3' ORDER BY created, seq;
SELECT pg_temp.balance('cus_cnb3') AS balance;
-- the invoice can still be credited up to its total (20000 - 8000 = 12000),
-- but nothing is left to refund (22023); 12000 to the balance is fine
SELECT pg_temp.fp('cnb') AS fp \gset
SELECT invoicing.create_credit_note('in_cnb5', 12000, refund_amount => 1, credit_amount => 11999);
SELECT pg_temp.fp('cnb') = :'fp' AS unchanged;
SELECT (invoicing.create_credit_note('in_cnb5', 12000, credit_amount => 12000))->>'type' AS type;
SELECT * FROM inv WHERE id = 'in_cnb5';
SELECT pg_temp.balance('cus_cnb3') AS balance;
SELECT * FROM pg_temp.violations('cnb');

-- A note larger than amount_remaining on an invoice that had a balance
-- applied: in_cnb6, total 20000, balance -15000 applied, nothing paid
-- (amount_due 5000).  6000 splits 5000 pre (all that remains) / 1000 post;
-- nothing was paid, so the post part can only go to the balance or out of
-- band.  amount_due = max(0, 20000 - 15000) - 5000 = 0: paid.
SELECT invoicing.create_customer(id => 'cus_cnb4');
SELECT (invoicing.adjust_customer_balance('cus_cnb4', 'usd', -15000))->>'ending_balance' AS ending_balance;
SELECT pg_temp.open_invoice('in_cnb6', 'cus_cnb4', 20000);
SELECT pg_temp.fp('cnb') AS fp \gset
SELECT invoicing.create_credit_note('in_cnb6', 6000);
SELECT invoicing.create_credit_note('in_cnb6', 6000, refund_amount => 1000);
SELECT pg_temp.fp('cnb') = :'fp' AS unchanged;
SELECT invoicing.create_credit_note('in_cnb6', 6000, credit_amount => 1000) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT * FROM inv WHERE id = 'in_cnb6';
SELECT customer, currency, type, amount, ending_balance, invoice, credit_note
  FROM txn WHERE customer = 'cus_cnb4' ORDER BY created, seq;
SELECT pg_temp.balance('cus_cnb4') AS balance;
SELECT * FROM pg_temp.violations('cnb');

-- Balances are per currency: a eur invoice's credit goes to the eur
-- balance only.
SELECT invoicing.create_customer(id => 'cus_cnb5');
SELECT invoicing.create_invoice('cus_cnb5', 'eur', id => 'in_cnb7');
SELECT invoicing.add_invoice_line('in_cnb7', 4000) IS NOT NULL AS added;
SELECT (invoicing.finalize_invoice('in_cnb7'))->>'status' AS status;
SELECT (invoicing.pay_invoice('in_cnb7'))->>'status' AS status;
SELECT invoicing.create_credit_note('in_cnb7', 1500, credit_amount => 1000, out_of_band_amount => 500) AS j \gset
SELECT * FROM pg_temp.show(:'j');
SELECT (:'j'::jsonb)->>'currency' AS currency;
SELECT * FROM inv WHERE id = 'in_cnb7';
SELECT pg_temp.balance('cus_cnb5', 'eur') AS eur_balance, pg_temp.balance('cus_cnb5', 'usd') AS usd_balance;
SELECT customer, currency, type, amount, ending_balance, invoice, credit_note
  FROM txn WHERE customer = 'cus_cnb5' ORDER BY created, seq;
SELECT * FROM pg_temp.violations('cnb');
