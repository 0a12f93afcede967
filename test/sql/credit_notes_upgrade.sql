-- credit_notes_upgrade: credit notes on data made before they existed
-- (issue 3; SPEC 1).  Version 0.1 is installed in a fresh schema, invoices
-- are made in every state (open with partial payments, an open payment,
-- paid, void, draft, uncollectible, a customer balance applied), the
-- extension is updated to 0.2, and credit notes work on the old invoices
-- (including refunds of payments made under 0.1), check_invariants() empty;
-- then to 0.3, again.  Last, updated on to the default version, the catalog
-- is compared with a fresh install's, which this file leaves in place for
-- the files that follow.
-- Ids carry "cnu".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\set VERBOSITY sqlstate
-- a fresh schema state: whatever earlier files made goes
SET client_min_messages = warning;
DROP EXTENSION invoicing CASCADE;
RESET client_min_messages;
CREATE EXTENSION invoicing VERSION '0.1';
SELECT extversion FROM pg_extension WHERE extname = 'invoicing';
SELECT to_regclass('invoicing.credit_notes') IS NULL AS no_credit_notes_yet;

-- helpers that need only 0.1 (the others come after the update)
CREATE TEMP VIEW inv AS
  SELECT id, status, total, amount_due, amount_paid, amount_remaining, amount_overpaid,
         pre_payment_credit_notes_amount AS pre_cn, post_payment_credit_notes_amount AS post_cn,
         starting_balance, ending_balance, paid_at IS NOT NULL AS paid_at_set
    FROM invoicing.invoices;
\i test/sql/include/cn_setup.psql

-- Data under 0.1.
SELECT invoicing.create_customer('cnu1@example.com', 'Cnu One', 'cus_cnu1');
SELECT invoicing.create_customer(id => 'cus_cnu2');
-- in_cnu1: open, 10000, partly paid: pi_cnu1a 3000, then pi_cnu1b 1000,
-- then 1000 out of band (remaining 5000)
SELECT pg_temp.open_invoice('in_cnu1', 'cus_cnu1', 10000);
SELECT pg_temp.pay('in_cnu1', 'pi_cnu1a', 3000);
SELECT pg_temp.pay('in_cnu1', 'pi_cnu1b', 1000);
SELECT (invoicing.attach_out_of_band_payment('in_cnu1', 1000))->>'amount_remaining' AS amount_remaining;
-- in_cnu2: open, 10000, pi_cnu2 4000 paid and pi_cnu2o 2000 attached, open
SELECT pg_temp.open_invoice('in_cnu2', 'cus_cnu1', 10000);
SELECT pg_temp.pay('in_cnu2', 'pi_cnu2', 4000);
SELECT invoicing.create_payment_intent('cus_cnu1', 'usd', 2000, id => 'pi_cnu2o');
SELECT (invoicing.attach_payment('in_cnu2', 'pi_cnu2o'))->>'status' AS status;
-- in_cnu3: paid, 6000 by pi_cnu3
SELECT pg_temp.open_invoice('in_cnu3', 'cus_cnu1', 6000);
SELECT pg_temp.pay('in_cnu3', 'pi_cnu3', 6000);
-- in_cnu4: void
SELECT pg_temp.open_invoice('in_cnu4', 'cus_cnu1', 2000);
SELECT (invoicing.void_invoice('in_cnu4'))->>'status' AS status;
-- in_cnu5: a draft
SELECT invoicing.create_invoice('cus_cnu1', 'usd', id => 'in_cnu5');
SELECT invoicing.add_invoice_line('in_cnu5', 3000) IS NOT NULL AS added;
-- in_cnu6: uncollectible
SELECT pg_temp.open_invoice('in_cnu6', 'cus_cnu1', 3000);
SELECT (invoicing.mark_uncollectible('in_cnu6'))->>'status' AS status;
-- in_cnu7: cus_cnu2 has a balance of -2000, applied to a 5000 invoice
-- (amount_due 3000), paid by pi_cnu7
SELECT (invoicing.adjust_customer_balance('cus_cnu2', 'usd', -2000))->>'ending_balance' AS ending_balance;
SELECT pg_temp.open_invoice('in_cnu7', 'cus_cnu2', 5000);
SELECT pg_temp.pay('in_cnu7', 'pi_cnu7', 3000);
SELECT * FROM inv ORDER BY id;
SELECT * FROM invoicing.check_invariants();

-- Update to 0.2: credit notes and refunds appear; the invoices keep their
-- amounts.
ALTER EXTENSION invoicing UPDATE TO '0.2';
SELECT extversion FROM pg_extension WHERE extname = 'invoicing';
SELECT * FROM inv ORDER BY id;
SELECT count(*) AS credit_notes FROM invoicing.credit_notes;
SELECT count(*) AS refunds FROM invoicing.refunds;
SELECT * FROM invoicing.check_invariants();

-- helpers on the 0.2 tables
\i test/sql/include/cn_views.psql
CREATE TEMP VIEW ref AS
  SELECT c.invoice, pg_temp.rel_number(c.number, c.invoice) AS credit_note,
         coalesce(p.payment_intent, p.payment_type::text) AS payment, r.amount, r.currency
    FROM invoicing.refunds r
    JOIN invoicing.credit_notes c ON c.id = r.credit_note
    JOIN invoicing.invoice_payments p ON p.id = r.invoice_payment;
CREATE TEMP VIEW txn AS
  SELECT t.customer, t.currency, t.type, t.amount, t.ending_balance, t.invoice,
         pg_temp.rel_number(c.number, c.invoice) AS credit_note, t.created, t.seq
    FROM invoicing.customer_balance_transactions t
    LEFT JOIN invoicing.credit_notes c ON c.id = t.credit_note;
-- fingerprint of everything (the database holds only this file's objects);
-- the events table is counted once it exists
CREATE FUNCTION pg_temp.nevents() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  n bigint := -1;
BEGIN
  IF to_regclass('invoicing.events') IS NOT NULL THEN
    EXECUTE 'SELECT count(*) FROM invoicing.events' INTO n;
  END IF;
  RETURN n;
END $$;
CREATE FUNCTION pg_temp.fp() RETURNS text LANGUAGE sql AS $$
  SELECT md5(concat_ws(E'\n',
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.customers x),
    (SELECT string_agg(x::text, ',' ORDER BY x.customer, x.currency) FROM invoicing.customer_balances x),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.customer_balance_transactions x),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.invoices x),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.invoice_lines x),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.payment_intents x),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.invoice_payments x),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.credit_notes x),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM invoicing.refunds x),
    pg_temp.nevents()::text))
$$;

-- in_cnu1 (remaining 5000): 7000 refunding 1500 and 500 out of band: pre
-- 5000, post 2000, mixed; the refund newest first: 1000 on pi_cnu1b, 500 on
-- pi_cnu1a (both paid under 0.1).  Invoice: due 5000, paid 5000, paid.
SELECT j->>'type' AS type, j->>'pre_payment_amount' AS pre, j->>'post_payment_amount' AS post,
       pg_temp.rel_number(j->>'number', 'in_cnu1') AS number
  FROM invoicing.create_credit_note('in_cnu1', 7000, refund_amount => 1500, out_of_band_amount => 500) AS j;
SELECT * FROM inv WHERE id = 'in_cnu1';
SELECT * FROM ref WHERE invoice = 'in_cnu1' ORDER BY credit_note, payment;
SELECT * FROM pay WHERE invoice = 'in_cnu1' ORDER BY payment;

-- in_cnu2 (remaining 6000, an open payment of 2000): 3000 pre-payment; the
-- open payment then succeeds; the note is voided (the invoice is open).
SELECT (invoicing.create_credit_note('in_cnu2', 3000))->>'type' AS type;
SELECT * FROM inv WHERE id = 'in_cnu2';
SELECT (invoicing.update_payment_intent('pi_cnu2o', 'succeeded'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_cnu2';
SELECT (invoicing.void_credit_note(pg_temp.cn_id('in_cnu2', 1)))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_cnu2';

-- in_cnu3 (paid 6000 by pi_cnu3 under 0.1): a refund of 2000 against it,
-- then 4000 more: all of its 6000 refunded, the total credited; one more
-- is above the total (22023).
SELECT (invoicing.create_credit_note('in_cnu3', 2000, refund_amount => 2000))->>'type' AS type;
SELECT (invoicing.create_credit_note('in_cnu3', 4000, refund_amount => 4000))->>'type' AS type;
SELECT * FROM ref WHERE invoice = 'in_cnu3' ORDER BY credit_note, payment;
SELECT * FROM pay WHERE invoice = 'in_cnu3' ORDER BY payment;
SELECT pg_temp.fp() AS fp \gset
SELECT invoicing.create_credit_note('in_cnu3', 1, out_of_band_amount => 1);
SELECT pg_temp.fp() = :'fp' AS unchanged;
SELECT * FROM inv WHERE id = 'in_cnu3';

-- in_cnu4 (void) and in_cnu5 (draft) take no credit note: 55000.  Once
-- in_cnu5 is finalized it does, numbered -CN-01.
SELECT invoicing.create_credit_note('in_cnu4', 1000);
SELECT invoicing.create_credit_note('in_cnu5', 1000);
SELECT pg_temp.fp() = :'fp' AS unchanged;
SELECT (invoicing.finalize_invoice('in_cnu5'))->>'status' AS status;
SELECT (invoicing.create_credit_note('in_cnu5', 1000))->>'type' AS type;
SELECT * FROM inv WHERE id IN ('in_cnu4', 'in_cnu5') ORDER BY id;

-- in_cnu6 (uncollectible): a pre-payment note; it stays uncollectible.
SELECT (invoicing.create_credit_note('in_cnu6', 1000))->>'type' AS type;
SELECT * FROM inv WHERE id = 'in_cnu6';

-- in_cnu7 (5000 with -2000 applied, 3000 paid by pi_cnu7): 4000 refunding
-- 3500 is above the 3000 refundable (22023); refunding 3000 and crediting
-- 1000 is fine: post_payment, cus_cnu2's balance -1000.
SELECT pg_temp.fp() AS fp \gset
SELECT invoicing.create_credit_note('in_cnu7', 4000, refund_amount => 3500, credit_amount => 500);
SELECT pg_temp.fp() = :'fp' AS unchanged;
SELECT (invoicing.create_credit_note('in_cnu7', 4000, refund_amount => 3000, credit_amount => 1000))->>'type' AS type;
SELECT * FROM inv WHERE id = 'in_cnu7';
SELECT * FROM ref WHERE invoice = 'in_cnu7' ORDER BY credit_note, payment;
SELECT customer, type, amount, ending_balance, invoice, credit_note
  FROM txn WHERE customer = 'cus_cnu2' ORDER BY created, seq;

SELECT * FROM cn ORDER BY invoice, number;
SELECT * FROM invoicing.check_invariants();

-- Update to 0.3 (events): nothing moves, invariants hold, credit notes go
-- on working and now emit their events (SPEC 6: the note's event first,
-- then invoice.updated, then invoice.paid when the note pays the invoice).
ALTER EXTENSION invoicing UPDATE TO '0.3';
SELECT extversion FROM pg_extension WHERE extname = 'invoicing';
SELECT * FROM inv ORDER BY id;
SELECT * FROM invoicing.check_invariants();
-- in_cnu2 (due 10000, paid 6000): 1000 pre-payment, then voided, then 4000
-- which pays it
SELECT (invoicing.create_credit_note('in_cnu2', 1000))->>'type' AS type;
SELECT (invoicing.void_credit_note(pg_temp.cn_id('in_cnu2', 2)))->>'status' AS status;
SELECT (invoicing.create_credit_note('in_cnu2', 4000))->>'type' AS type;
SELECT * FROM inv WHERE id = 'in_cnu2';
SELECT * FROM cn WHERE invoice = 'in_cnu2' ORDER BY number;
SELECT e.type, e.object_id = 'in_cnu2' AS about_invoice
  FROM invoicing.events e ORDER BY e.seq;
SELECT * FROM invoicing.check_invariants();

-- Update on to the default version (a no-op while that is 0.3).  The
-- catalog after the updates is that of a fresh install of the default
-- version (SPEC 1): tables and columns, functions, triggers, constraints,
-- indexes, types.
SET client_min_messages = warning;
ALTER EXTENSION invoicing UPDATE;
RESET client_min_messages;
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'invoicing')
       AS default_version
  FROM pg_extension WHERE extname = 'invoicing';
SELECT * FROM invoicing.check_invariants();
CREATE FUNCTION pg_temp.catalog() RETURNS text LANGUAGE sql AS $$
  SELECT md5(concat_ws(E'\n',
    (SELECT string_agg(format('%s.%s %s %s %s', c.relname, a.attname,
                              format_type(a.atttypid, a.atttypmod), a.attnotnull,
                              pg_get_expr(d.adbin, d.adrelid)),
                       E'\n' ORDER BY c.relname, a.attname)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      WHERE n.nspname = 'invoicing'),
    (SELECT string_agg(format('%s %s', c.relname, c.relkind), E'\n' ORDER BY c.relname)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'invoicing'),
    (SELECT string_agg(pg_get_functiondef(p.oid), E'\n' ORDER BY p.proname, pg_get_function_identity_arguments(p.oid))
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'invoicing'),
    (SELECT string_agg(format('%s %s', t.tgname, pg_get_triggerdef(t.oid)), E'\n' ORDER BY t.tgname, c.relname)
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'invoicing' AND NOT t.tgisinternal),
    (SELECT string_agg(format('%s %s', co.conname, pg_get_constraintdef(co.oid)), E'\n' ORDER BY co.conname, pg_get_constraintdef(co.oid))
       FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace WHERE n.nspname = 'invoicing'),
    (SELECT string_agg(pg_get_indexdef(i.indexrelid), E'\n' ORDER BY pg_get_indexdef(i.indexrelid))
       FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'invoicing'),
    (SELECT string_agg(format('%s %s', t.typname, (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                                                    FROM pg_enum e WHERE e.enumtypid = t.oid)),
                       E'\n' ORDER BY t.typname)
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'invoicing' AND t.typtype IN ('e', 'd'))))
$$;
SELECT pg_temp.catalog() AS updated_catalog \gset
-- Leave the extension installed, fresh, at the default version for the
-- files that follow.
SET client_min_messages = warning;
DROP EXTENSION invoicing CASCADE;
RESET client_min_messages;
CREATE EXTENSION invoicing;
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'invoicing')
       AS default_version
  FROM pg_extension WHERE extname = 'invoicing';
SELECT pg_temp.catalog() = :'updated_catalog' AS same_catalog;
