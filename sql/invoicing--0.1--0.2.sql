/* invoicing--0.1--0.2.sql: credit notes, refunds */

\echo Use "ALTER EXTENSION invoicing UPDATE TO '0.2'" to load this file. \quit

CREATE TYPE @extschema@.credit_note_reason AS ENUM
	('duplicate', 'fraudulent', 'order_change', 'product_unsatisfactory');
CREATE TYPE @extschema@.credit_note_status AS ENUM ('issued', 'void');
CREATE TYPE @extschema@.credit_note_type AS ENUM ('pre_payment', 'post_payment', 'mixed');

-- New accumulators.  The triggers are bypassed for the backfill only: the
-- values are computed here from the base rows, exactly as the triggers keep
-- them from now on.
ALTER TABLE @extschema@.invoices
	ADD COLUMN credit_note_count integer NOT NULL DEFAULT 0,	-- derived
	ADD COLUMN amount_refundable bigint NOT NULL DEFAULT 0;	-- derived
ALTER TABLE @extschema@.invoice_payments
	ADD COLUMN amount_refunded bigint NOT NULL DEFAULT 0;	-- derived

ALTER TABLE @extschema@.invoices DISABLE TRIGGER invoices_rules;
UPDATE @extschema@.invoices i
   SET amount_refundable = p.paid
  FROM (SELECT invoice, sum(amount_paid) AS paid
		  FROM @extschema@.invoice_payments
		 WHERE status = 'paid' AND payment_type = 'payment_intent'
		 GROUP BY invoice) p
 WHERE p.invoice = i.id;
ALTER TABLE @extschema@.invoices ENABLE TRIGGER invoices_rules;

CREATE SEQUENCE @extschema@.credit_notes_seq;

CREATE TABLE @extschema@.credit_notes (
	id			text PRIMARY KEY,
	invoice		text NOT NULL REFERENCES @extschema@.invoices (id),
	amount		bigint NOT NULL,
	refund_amount bigint NOT NULL DEFAULT 0,
	credit_amount bigint NOT NULL DEFAULT 0,
	out_of_band_amount bigint NOT NULL DEFAULT 0,
	reason		@extschema@.credit_note_reason,
	memo		text,
	status		@extschema@.credit_note_status NOT NULL DEFAULT 'issued',
	metadata	jsonb NOT NULL DEFAULT '{}',
	created		timestamptz NOT NULL DEFAULT now(),
	seq			bigint NOT NULL DEFAULT nextval('@extschema@.credit_notes_seq'),
	-- derived
	customer	text REFERENCES @extschema@.customers (id),
	currency	text,
	number		text UNIQUE,
	pre_payment_amount bigint,
	post_payment_amount bigint,
	type		@extschema@.credit_note_type,
	voided_at	timestamptz,
	customer_balance_transaction text
);
ALTER SEQUENCE @extschema@.credit_notes_seq OWNED BY @extschema@.credit_notes.seq;
CREATE INDEX ON @extschema@.credit_notes (invoice);

CREATE SEQUENCE @extschema@.refunds_seq;

CREATE TABLE @extschema@.refunds (
	id			text PRIMARY KEY,
	-- deferred: a credit note's trigger writes its refunds before the note
	credit_note text NOT NULL REFERENCES @extschema@.credit_notes (id)
		DEFERRABLE INITIALLY DEFERRED,
	invoice_payment text NOT NULL REFERENCES @extschema@.invoice_payments (id),
	payment_intent text REFERENCES @extschema@.payment_intents (id),
	amount		bigint NOT NULL,
	currency	text NOT NULL,
	created		timestamptz NOT NULL DEFAULT now(),
	seq			bigint NOT NULL DEFAULT nextval('@extschema@.refunds_seq')
);
ALTER SEQUENCE @extschema@.refunds_seq OWNED BY @extschema@.refunds.seq;
CREATE INDEX ON @extschema@.refunds (credit_note);
CREATE INDEX ON @extschema@.refunds (invoice_payment);

ALTER TABLE @extschema@.customer_balance_transactions
	ADD FOREIGN KEY (credit_note) REFERENCES @extschema@.credit_notes (id)
		DEFERRABLE INITIALLY DEFERRED;

CREATE FUNCTION @extschema@.credit_notes_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'invoicing_credit_notes_trigger' LANGUAGE C;
CREATE FUNCTION @extschema@.refunds_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'invoicing_refunds_trigger' LANGUAGE C;

CREATE TRIGGER credit_notes_rules
	BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.credit_notes
	FOR EACH ROW EXECUTE FUNCTION @extschema@.credit_notes_trigger();
CREATE TRIGGER refunds_rules
	BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.refunds
	FOR EACH ROW EXECUTE FUNCTION @extschema@.refunds_trigger();

CREATE TRIGGER no_truncate BEFORE TRUNCATE ON @extschema@.credit_notes
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_truncate();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON @extschema@.refunds
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_truncate();

CREATE FUNCTION @extschema@.credit_note_json(id text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'invoicing_credit_note_json'
LANGUAGE C STABLE;

CREATE FUNCTION @extschema@.create_credit_note(invoice text, amount bigint,
											   refund_amount bigint DEFAULT 0,
											   credit_amount bigint DEFAULT 0,
											   out_of_band_amount bigint DEFAULT 0,
											   reason text DEFAULT NULL,
											   memo text DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'invoicing_create_credit_note'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.preview_credit_note(invoice text, amount bigint,
												refund_amount bigint DEFAULT 0,
												credit_amount bigint DEFAULT 0,
												out_of_band_amount bigint DEFAULT 0,
												reason text DEFAULT NULL,
												memo text DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'invoicing_preview_credit_note'
LANGUAGE C STABLE;

CREATE FUNCTION @extschema@.void_credit_note(credit_note text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'invoicing_void_credit_note'
LANGUAGE C VOLATILE;

-- check_invariants() now covers credit notes and refunds too.
CREATE OR REPLACE FUNCTION @extschema@.check_invariants()
RETURNS TABLE (object_id text, invariant text, detail text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH lines AS (
		SELECT l.invoice, sum(l.amount)::numeric AS total
		  FROM @extschema@.invoice_lines l GROUP BY l.invoice
	), pays AS (
		SELECT p.invoice,
			   coalesce(sum(p.amount_paid) FILTER (WHERE p.status = 'paid'), 0)::numeric AS paid,
			   coalesce(sum(p.amount_paid - p.amount_refunded)
						FILTER (WHERE p.status = 'paid' AND p.payment_type = 'payment_intent'),
						0)::numeric AS refundable,
			   count(*) FILTER (WHERE p.status = 'open') AS n_open,
			   count(*) FILTER (WHERE p.status = 'paid') AS n_paid,
			   count(*) AS n_all
		  FROM @extschema@.invoice_payments p GROUP BY p.invoice
	), notes AS (
		SELECT c.invoice,
			   coalesce(sum(c.pre_payment_amount) FILTER (WHERE c.status = 'issued'), 0)::numeric AS pre,
			   coalesce(sum(c.post_payment_amount) FILTER (WHERE c.status = 'issued'), 0)::numeric AS post,
			   coalesce(sum(c.amount) FILTER (WHERE c.status = 'issued'), 0)::numeric AS issued,
			   count(*) AS n_all
		  FROM @extschema@.credit_notes c GROUP BY c.invoice
	), inv AS (
		SELECT i.*, coalesce(l.total, 0) AS x_total,
			   coalesce(p.paid, 0) AS x_paid,
			   coalesce(p.refundable, 0) AS x_refundable,
			   coalesce(p.n_open, 0) AS x_open, coalesce(p.n_paid, 0) AS x_npaid,
			   coalesce(p.n_all, 0) AS x_nall,
			   coalesce(n.pre, 0) AS x_pre, coalesce(n.post, 0) AS x_post,
			   coalesce(n.issued, 0) AS x_issued, coalesce(n.n_all, 0) AS x_nnotes,
			   CASE WHEN i.status = 'draft' THEN coalesce(l.total, 0)
					ELSE greatest(0, coalesce(l.total, 0) + i.starting_balance) - coalesce(n.pre, 0)
			   END AS x_due
		  FROM @extschema@.invoices i
		  LEFT JOIN lines l ON l.invoice = i.id
		  LEFT JOIN pays p ON p.invoice = i.id
		  LEFT JOIN notes n ON n.invoice = i.id
	)
	SELECT id, '1: subtotal = total = sum of line amounts',
		   format('subtotal %s, total %s, lines %s', subtotal, total, x_total)
	  FROM inv WHERE subtotal <> x_total OR total <> x_total
	UNION ALL
	SELECT id, '2: draft amounts',
		   format('amount_due %s, amount_remaining %s, amount_paid %s, amount_overpaid %s, starting_balance %s, ending_balance %s, payments %s, credit notes %s',
				  amount_due, amount_remaining, amount_paid, amount_overpaid,
				  starting_balance, ending_balance, x_nall, x_nnotes)
	  FROM inv
	 WHERE status = 'draft'
	   AND (amount_due <> x_total OR amount_remaining <> greatest(0, x_total)
			OR amount_paid <> 0 OR amount_overpaid <> 0 OR starting_balance <> 0
			OR ending_balance IS NOT NULL OR x_nall <> 0 OR x_nnotes <> 0
			OR finalized_at IS NOT NULL)
	UNION ALL
	SELECT id, '2: amount_due = max(0, total + starting_balance) - pre_payment_credit_notes_amount',
		   format('amount_due %s, expected %s', amount_due, x_due)
	  FROM inv WHERE status <> 'draft' AND amount_due <> x_due
	UNION ALL
	SELECT id, '3: amount_paid = sum of paid payments',
		   format('amount_paid %s, payments %s', amount_paid, x_paid)
	  FROM inv WHERE amount_paid <> x_paid
	UNION ALL
	SELECT id, '3: amount_remaining = max(0, amount_due - amount_paid)',
		   format('amount_remaining %s, expected %s', amount_remaining,
				  greatest(0, x_due - x_paid))
	  FROM inv WHERE status <> 'draft' AND amount_remaining <> greatest(0, x_due - x_paid)
	UNION ALL
	SELECT id, '3: amount_overpaid = max(0, amount_paid - amount_due)',
		   format('amount_overpaid %s, expected %s', amount_overpaid,
				  greatest(0, x_paid - x_due))
	  FROM inv WHERE status <> 'draft' AND amount_overpaid <> greatest(0, x_paid - x_due)
	UNION ALL
	SELECT id, '4: credit note counters = sums of issued credit notes',
		   format('pre %s (notes %s), post %s (notes %s)',
				  pre_payment_credit_notes_amount, x_pre,
				  post_payment_credit_notes_amount, x_post)
	  FROM inv
	 WHERE pre_payment_credit_notes_amount <> x_pre
		OR post_payment_credit_notes_amount <> x_post
	UNION ALL
	SELECT id, '4: issued credit notes <= total',
		   format('issued %s, total %s', x_issued, total)
	  FROM inv WHERE status <> 'draft' AND x_issued > total
	UNION ALL
	SELECT id, 'payment and credit note counters',
		   format('open_payment_count %s (actual %s), paid_payment_count %s (actual %s), credit_note_count %s (actual %s), amount_refundable %s (actual %s)',
				  open_payment_count, x_open, paid_payment_count, x_npaid,
				  credit_note_count, x_nnotes, amount_refundable, x_refundable)
	  FROM inv
	 WHERE open_payment_count <> x_open OR paid_payment_count <> x_npaid
		OR credit_note_count <> x_nnotes OR amount_refundable <> x_refundable
	UNION ALL
	SELECT id, '7: status paid exactly when finalized, not void and nothing remains',
		   format('status %s, amount_remaining %s, paid_at %s', status, amount_remaining, paid_at)
	  FROM inv
	 WHERE (status = 'paid') <> (status NOT IN ('draft', 'void') AND finalized_at IS NOT NULL
								 AND amount_remaining = 0)
		OR (status = 'paid' AND paid_at IS NULL)
	UNION ALL
	SELECT l.id, '1: line amount = quantity * unit_amount',
		   format('amount %s, quantity %s, unit_amount %s', l.amount, l.quantity, l.unit_amount)
	  FROM @extschema@.invoice_lines l
	 WHERE l.amount::numeric <> l.quantity::numeric * l.unit_amount
	UNION ALL
	SELECT c.id, '5: pre + post = amount, dispositions = post, type',
		   format('amount %s, pre %s, post %s, refund %s, credit %s, out_of_band %s, type %s',
				  c.amount, c.pre_payment_amount, c.post_payment_amount, c.refund_amount,
				  c.credit_amount, c.out_of_band_amount, c.type)
	  FROM @extschema@.credit_notes c
	 WHERE c.pre_payment_amount::numeric + c.post_payment_amount <> c.amount
		OR c.refund_amount::numeric + c.credit_amount + c.out_of_band_amount
		   <> c.post_payment_amount
		OR c.type IS DISTINCT FROM
		   (CASE WHEN c.post_payment_amount = 0 THEN 'pre_payment'
				 WHEN c.pre_payment_amount = 0 THEN 'post_payment'
				 ELSE 'mixed' END)::@extschema@.credit_note_type
		OR c.pre_payment_amount < 0 OR c.post_payment_amount < 0
		OR (c.status = 'void') <> (c.voided_at IS NOT NULL)
	UNION ALL
	SELECT c.id, 'credit note refunds = refund_amount',
		   format('refund_amount %s, refunds %s', c.refund_amount, coalesce(r.s, 0))
	  FROM @extschema@.credit_notes c
	  LEFT JOIN (SELECT credit_note, sum(amount) AS s FROM @extschema@.refunds
				  GROUP BY credit_note) r ON r.credit_note = c.id
	 WHERE c.refund_amount <> coalesce(r.s, 0)
	UNION ALL
	SELECT c.id, 'credit note credit_amount = its balance transaction',
		   format('credit_amount %s, transaction %s amount %s', c.credit_amount,
				  c.customer_balance_transaction, t.amount)
	  FROM @extschema@.credit_notes c
	  LEFT JOIN @extschema@.customer_balance_transactions t
		ON t.id = c.customer_balance_transaction
	 WHERE (c.credit_amount = 0) <> (c.customer_balance_transaction IS NULL)
		OR (c.credit_amount > 0 AND (t.amount IS DISTINCT FROM -c.credit_amount
									 OR t.type <> 'credit_note'
									 OR t.credit_note IS DISTINCT FROM c.id))
	UNION ALL
	SELECT p.id, '6: amount_paid is null exactly when the payment is not paid',
		   format('status %s, amount_paid %s', p.status, p.amount_paid)
	  FROM @extschema@.invoice_payments p
	 WHERE (p.amount_paid IS NULL) <> (p.status <> 'paid')
		OR (p.status = 'paid' AND p.paid_at IS NULL)
		OR (p.status = 'canceled' AND p.canceled_at IS NULL)
	UNION ALL
	SELECT p.id, '9: refunds of a payment <= its amount_paid',
		   format('amount_paid %s, amount_refunded %s, refunds %s', p.amount_paid,
				  p.amount_refunded, coalesce(r.s, 0))
	  FROM @extschema@.invoice_payments p
	  LEFT JOIN (SELECT invoice_payment, sum(amount) AS s FROM @extschema@.refunds
				  GROUP BY invoice_payment) r ON r.invoice_payment = p.id
	 WHERE p.amount_refunded <> coalesce(r.s, 0)
		OR coalesce(r.s, 0) > coalesce(p.amount_paid, 0)
	UNION ALL
	SELECT p.id, 'payment matches its PaymentIntent',
		   format('payment %s requested %s paid %s; payment_intent %s status %s amount %s received %s',
				  p.status, p.amount_requested, p.amount_paid, pi.id, pi.status, pi.amount,
				  pi.amount_received)
	  FROM @extschema@.invoice_payments p
	  JOIN @extschema@.payment_intents pi ON pi.id = p.payment_intent
	 WHERE p.amount_requested <> pi.amount
		OR pi.invoice IS DISTINCT FROM p.invoice
		OR (p.status = 'paid') <> (pi.status = 'succeeded')
		OR (p.status = 'canceled') <> (pi.status = 'canceled')
		OR (p.status = 'paid' AND p.amount_paid <> least(p.amount_requested, pi.amount_received))
	UNION ALL
	SELECT b.customer || '/' || b.currency, '8: balance = sum of transactions',
		   format('balance %s, transactions %s', b.balance, coalesce(t.s, 0))
	  FROM @extschema@.customer_balances b
	  LEFT JOIN (SELECT customer, currency, sum(amount) AS s
				   FROM @extschema@.customer_balance_transactions
				  GROUP BY customer, currency) t
		ON t.customer = b.customer AND t.currency = b.currency
	 WHERE b.balance <> coalesce(t.s, 0)
	UNION ALL
	SELECT t.customer || '/' || t.currency, '8: every transaction currency has a balance',
		   format('transactions %s, no balance row', t.s)
	  FROM (SELECT customer, currency, sum(amount) AS s
			  FROM @extschema@.customer_balance_transactions
			 GROUP BY customer, currency) t
	 WHERE NOT EXISTS (SELECT 1 FROM @extschema@.customer_balances b
						WHERE b.customer = t.customer AND b.currency = t.currency)
	UNION ALL
	SELECT x.id, '8: ending_balance is the running balance',
		   format('ending_balance %s, running %s', x.ending_balance, x.running)
	  FROM (SELECT t.id, t.ending_balance,
				   sum(t.amount) OVER (PARTITION BY t.customer, t.currency
									   ORDER BY t.seq) AS running
			  FROM @extschema@.customer_balance_transactions t) x
	 WHERE x.ending_balance IS DISTINCT FROM x.running
	ORDER BY 1, 2
$$;

SELECT pg_catalog.pg_extension_config_dump('@extschema@.credit_notes', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.credit_notes_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.refunds', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.refunds_seq', '');
