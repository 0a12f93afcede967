/* invoicing--0.1.sql: invoices, partial payments and customer balances */

\echo Use "CREATE EXTENSION invoicing" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Identifiers, currencies, enumerations
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.generate_id(prefix text)
RETURNS text
AS 'MODULE_PATHNAME', 'invoicing_generate_id'
LANGUAGE C VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.generate_id(text) IS
'prefix followed by 24 base-62 characters from a strong random source';

CREATE FUNCTION @extschema@.is_valid_currency(currency text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'invoicing_is_valid_currency'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.is_valid_currency(text) IS
'true when currency is a lower-case ISO 4217 code';

CREATE TYPE @extschema@.invoice_status AS ENUM
	('draft', 'open', 'paid', 'uncollectible', 'void');
CREATE TYPE @extschema@.collection_method AS ENUM
	('charge_automatically', 'send_invoice');
CREATE TYPE @extschema@.payment_intent_status AS ENUM
	('requires_payment_method', 'requires_confirmation', 'requires_action',
	 'processing', 'requires_capture', 'canceled', 'succeeded');
CREATE TYPE @extschema@.invoice_payment_status AS ENUM
	('open', 'paid', 'canceled');
CREATE TYPE @extschema@.invoice_payment_type AS ENUM
	('payment_intent', 'payment_record');
CREATE TYPE @extschema@.balance_transaction_type AS ENUM
	('adjustment', 'applied_to_invoice', 'unapplied_from_invoice',
	 'credit_note', 'invoice_overpaid');

-- ---------------------------------------------------------------------------
-- Tables.  Columns marked "derived" are written by the extension's triggers
-- only; any other writer gets SQLSTATE 23514.
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.customers (
	id			text PRIMARY KEY,
	email		text,
	name		text,
	metadata	jsonb NOT NULL DEFAULT '{}',
	created		timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE @extschema@.customer_balances (
	customer	text NOT NULL REFERENCES @extschema@.customers (id),
	currency	text NOT NULL,
	balance		bigint NOT NULL DEFAULT 0,	-- derived
	PRIMARY KEY (customer, currency)
);

CREATE SEQUENCE @extschema@.customer_balance_transactions_seq;

CREATE TABLE @extschema@.customer_balance_transactions (
	id			text PRIMARY KEY,
	customer	text NOT NULL REFERENCES @extschema@.customers (id),
	currency	text NOT NULL,
	amount		bigint NOT NULL,
	ending_balance bigint,		-- derived
	type		@extschema@.balance_transaction_type NOT NULL DEFAULT 'adjustment',
	invoice		text,
	credit_note text,
	description text,
	metadata	jsonb NOT NULL DEFAULT '{}',
	created		timestamptz NOT NULL DEFAULT now(),
	seq			bigint NOT NULL DEFAULT nextval('@extschema@.customer_balance_transactions_seq')
);
ALTER SEQUENCE @extschema@.customer_balance_transactions_seq
	OWNED BY @extschema@.customer_balance_transactions.seq;
CREATE INDEX ON @extschema@.customer_balance_transactions (customer, currency, seq);
CREATE INDEX ON @extschema@.customer_balance_transactions (invoice);

CREATE SEQUENCE @extschema@.invoice_number_seq;

CREATE TABLE @extschema@.invoices (
	id			text PRIMARY KEY,
	customer	text NOT NULL REFERENCES @extschema@.customers (id),
	currency	text NOT NULL,
	status		@extschema@.invoice_status NOT NULL DEFAULT 'draft',
	collection_method @extschema@.collection_method NOT NULL DEFAULT 'send_invoice',
	number		text UNIQUE,
	description text,
	metadata	jsonb NOT NULL DEFAULT '{}',
	created		timestamptz NOT NULL DEFAULT now(),
	-- derived
	subtotal	bigint NOT NULL DEFAULT 0,
	total		bigint NOT NULL DEFAULT 0,
	starting_balance bigint NOT NULL DEFAULT 0,
	ending_balance bigint,
	amount_due	bigint NOT NULL DEFAULT 0,
	amount_paid bigint NOT NULL DEFAULT 0,
	amount_remaining bigint NOT NULL DEFAULT 0,
	amount_overpaid bigint NOT NULL DEFAULT 0,
	pre_payment_credit_notes_amount bigint NOT NULL DEFAULT 0,
	post_payment_credit_notes_amount bigint NOT NULL DEFAULT 0,
	open_payment_count integer NOT NULL DEFAULT 0,
	paid_payment_count integer NOT NULL DEFAULT 0,
	finalized_at timestamptz,
	paid_at		timestamptz,
	voided_at	timestamptz,
	marked_uncollectible_at timestamptz
);
CREATE INDEX ON @extschema@.invoices (customer);

CREATE TABLE @extschema@.invoice_lines (
	id			text PRIMARY KEY,
	invoice		text NOT NULL REFERENCES @extschema@.invoices (id) ON DELETE CASCADE,
	description text,
	quantity	integer NOT NULL DEFAULT 1,
	unit_amount bigint NOT NULL,
	amount		bigint NOT NULL DEFAULT 0,	-- derived
	created		timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON @extschema@.invoice_lines (invoice);

CREATE TABLE @extschema@.payment_intents (
	id			text PRIMARY KEY,
	customer	text REFERENCES @extschema@.customers (id),
	currency	text NOT NULL,
	amount		bigint NOT NULL,
	status		@extschema@.payment_intent_status NOT NULL DEFAULT 'requires_payment_method',
	amount_received bigint NOT NULL DEFAULT 0,
	metadata	jsonb NOT NULL DEFAULT '{}',
	created		timestamptz NOT NULL DEFAULT now(),
	invoice		text			-- derived: the invoice it is attached to
);

CREATE SEQUENCE @extschema@.invoice_payments_seq;

CREATE TABLE @extschema@.invoice_payments (
	id			text PRIMARY KEY,
	invoice		text NOT NULL REFERENCES @extschema@.invoices (id),
	currency	text,
	payment_type @extschema@.invoice_payment_type NOT NULL DEFAULT 'payment_intent',
	payment_intent text UNIQUE REFERENCES @extschema@.payment_intents (id),
	payment_record text UNIQUE,
	reference	text,
	amount_requested bigint,
	is_default	boolean NOT NULL DEFAULT false,
	created		timestamptz NOT NULL DEFAULT now(),
	seq			bigint NOT NULL DEFAULT nextval('@extschema@.invoice_payments_seq'),
	-- derived
	status		@extschema@.invoice_payment_status NOT NULL DEFAULT 'open',
	amount_paid bigint,
	paid_at		timestamptz,
	canceled_at timestamptz
);
ALTER SEQUENCE @extschema@.invoice_payments_seq
	OWNED BY @extschema@.invoice_payments.seq;
CREATE INDEX invoice_payments_newest ON @extschema@.invoice_payments
	(invoice, created DESC, seq DESC);

-- ---------------------------------------------------------------------------
-- Triggers: every rule lives here, so every writer gets the same checks.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.customers_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'invoicing_customers_trigger' LANGUAGE C;
CREATE FUNCTION @extschema@.balance_transactions_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'invoicing_balance_transactions_trigger' LANGUAGE C;
CREATE FUNCTION @extschema@.balances_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'invoicing_balances_trigger' LANGUAGE C;
CREATE FUNCTION @extschema@.invoices_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'invoicing_invoices_trigger' LANGUAGE C;
CREATE FUNCTION @extschema@.invoice_lines_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'invoicing_invoice_lines_trigger' LANGUAGE C;
CREATE FUNCTION @extschema@.payment_intents_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'invoicing_payment_intents_trigger' LANGUAGE C;
CREATE FUNCTION @extschema@.invoice_payments_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'invoicing_invoice_payments_trigger' LANGUAGE C;

CREATE TRIGGER customers_rules BEFORE INSERT OR UPDATE ON @extschema@.customers
	FOR EACH ROW EXECUTE FUNCTION @extschema@.customers_trigger();
CREATE TRIGGER balance_transactions_rules
	BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.customer_balance_transactions
	FOR EACH ROW EXECUTE FUNCTION @extschema@.balance_transactions_trigger();
CREATE TRIGGER balances_rules
	BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.customer_balances
	FOR EACH ROW EXECUTE FUNCTION @extschema@.balances_trigger();
CREATE TRIGGER invoices_rules BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.invoices
	FOR EACH ROW EXECUTE FUNCTION @extschema@.invoices_trigger();
CREATE TRIGGER invoice_lines_rules
	BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.invoice_lines
	FOR EACH ROW EXECUTE FUNCTION @extschema@.invoice_lines_trigger();
CREATE TRIGGER payment_intents_rules
	BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.payment_intents
	FOR EACH ROW EXECUTE FUNCTION @extschema@.payment_intents_trigger();
CREATE TRIGGER invoice_payments_rules
	BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.invoice_payments
	FOR EACH ROW EXECUTE FUNCTION @extschema@.invoice_payments_trigger();

CREATE FUNCTION @extschema@.refuse_truncate() RETURNS trigger
AS 'MODULE_PATHNAME', 'invoicing_refuse_truncate' LANGUAGE C;

CREATE TRIGGER no_truncate BEFORE TRUNCATE ON @extschema@.customers
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_truncate();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON @extschema@.customer_balances
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_truncate();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON @extschema@.customer_balance_transactions
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_truncate();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON @extschema@.invoices
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_truncate();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON @extschema@.invoice_lines
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_truncate();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON @extschema@.payment_intents
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_truncate();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON @extschema@.invoice_payments
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_truncate();

-- ---------------------------------------------------------------------------
-- JSON renderers (jansson, in C)
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.invoice_json(invoice text, expand text[] DEFAULT '{}')
RETURNS jsonb AS 'MODULE_PATHNAME', 'invoicing_invoice_json'
LANGUAGE C STABLE;
CREATE FUNCTION @extschema@.invoice_payment_json(id text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'invoicing_invoice_payment_json'
LANGUAGE C STABLE;
CREATE FUNCTION @extschema@.payment_intent_json(id text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'invoicing_payment_intent_json'
LANGUAGE C STABLE;
CREATE FUNCTION @extschema@.customer_balance_transaction_json(id text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'invoicing_customer_balance_transaction_json'
LANGUAGE C STABLE;

-- ---------------------------------------------------------------------------
-- Functions.  Thin: each is one write whose rules the triggers enforce.
-- ---------------------------------------------------------------------------

-- Each function is one write whose rules the triggers enforce, written in C
-- with schema-qualified, cached statements: safe under any search_path, and
-- without changing it (which would force every cached plan to be replanned).
-- NULL where a value is needed is 22004; an unknown enum value is 22023.

CREATE FUNCTION @extschema@.create_customer(email text DEFAULT NULL, name text DEFAULT NULL,
											id text DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'invoicing_create_customer'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.create_invoice(customer text, currency text,
										   collection_method text DEFAULT 'send_invoice',
										   id text DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'invoicing_create_invoice'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.add_invoice_line(invoice text, unit_amount bigint,
											 quantity integer DEFAULT 1,
											 description text DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'invoicing_add_invoice_line'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.finalize_invoice(invoice text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'invoicing_finalize_invoice'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.void_invoice(invoice text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'invoicing_void_invoice'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.mark_uncollectible(invoice text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'invoicing_mark_uncollectible'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.create_payment_intent(customer text, currency text, amount bigint,
												  status text DEFAULT 'requires_payment_method',
												  id text DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'invoicing_create_payment_intent'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.update_payment_intent(payment_intent text, status text,
												  amount_received bigint DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'invoicing_update_payment_intent'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.attach_payment(invoice text, payment_intent text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'invoicing_attach_payment'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.attach_out_of_band_payment(invoice text, amount bigint,
													   reference text DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'invoicing_attach_out_of_band_payment'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.pay_invoice(invoice text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'invoicing_pay_invoice'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.adjust_customer_balance(customer text, currency text, amount bigint,
													description text DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'invoicing_adjust_customer_balance'
LANGUAGE C VOLATILE;

-- ---------------------------------------------------------------------------
-- check_invariants(): recompute every derived value from the base rows.
-- Written in SQL, independently of the C triggers that maintain them.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.check_invariants()
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
			   count(*) FILTER (WHERE p.status = 'open') AS n_open,
			   count(*) FILTER (WHERE p.status = 'paid') AS n_paid,
			   count(*) AS n_all
		  FROM @extschema@.invoice_payments p GROUP BY p.invoice
	), inv AS (
		SELECT i.*, coalesce(l.total, 0) AS x_total,
			   coalesce(p.paid, 0) AS x_paid,
			   coalesce(p.n_open, 0) AS x_open, coalesce(p.n_paid, 0) AS x_npaid,
			   coalesce(p.n_all, 0) AS x_nall,
			   CASE WHEN i.status = 'draft' THEN coalesce(l.total, 0)
					ELSE greatest(0, coalesce(l.total, 0) + i.starting_balance)
						 - i.pre_payment_credit_notes_amount
			   END AS x_due
		  FROM @extschema@.invoices i
		  LEFT JOIN lines l ON l.invoice = i.id
		  LEFT JOIN pays p ON p.invoice = i.id
	)
	SELECT id, '1: subtotal = total = sum of line amounts',
		   format('subtotal %s, total %s, lines %s', subtotal, total, x_total)
	  FROM inv WHERE subtotal <> x_total OR total <> x_total
	UNION ALL
	SELECT id, '2: draft amounts',
		   format('amount_due %s, amount_remaining %s, amount_paid %s, amount_overpaid %s, starting_balance %s, ending_balance %s, payments %s',
				  amount_due, amount_remaining, amount_paid, amount_overpaid,
				  starting_balance, ending_balance, x_nall)
	  FROM inv
	 WHERE status = 'draft'
	   AND (amount_due <> x_total OR amount_remaining <> greatest(0, x_total)
			OR amount_paid <> 0 OR amount_overpaid <> 0 OR starting_balance <> 0
			OR ending_balance IS NOT NULL OR x_nall <> 0 OR finalized_at IS NOT NULL)
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
	SELECT id, 'payment counters',
		   format('open_payment_count %s (actual %s), paid_payment_count %s (actual %s)',
				  open_payment_count, x_open, paid_payment_count, x_npaid)
	  FROM inv WHERE open_payment_count <> x_open OR paid_payment_count <> x_npaid
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
	SELECT p.id, '6: amount_paid is null exactly when the payment is not paid',
		   format('status %s, amount_paid %s', p.status, p.amount_paid)
	  FROM @extschema@.invoice_payments p
	 WHERE (p.amount_paid IS NULL) <> (p.status <> 'paid')
		OR (p.status = 'paid' AND p.paid_at IS NULL)
		OR (p.status = 'canceled' AND p.canceled_at IS NULL)
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

-- The rows of the extension's tables are user data: pg_dump must dump them.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.customers', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.customer_balances', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.customer_balance_transactions', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.customer_balance_transactions_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.invoices', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.invoice_number_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.invoice_lines', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.payment_intents', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.invoice_payments', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.invoice_payments_seq', '');
