-- Control for W1: the bare pipeline (pay_bare.sql, triggers off) whose attach
-- statement also returns a document like attach_payment's: the invoice row
-- with its 10 newest payments, built by PostgreSQL's own jsonb functions
-- (to_jsonb of each row, about the same size as the Stripe objects).  Its
-- ratio to pay_bare.sql is what returning that document costs by itself,
-- with no rules, no events and no jansson.  (The data-modifying CTEs are not
-- visible to the statement's own reads, so the list shows the payments as
-- they were before this one: the same amount of work.)
\set k (:client_id % :stride) + :stride * random(0, :ninv / :stride - 1)
\set c :k % :ncus
\set amt random(100, 10000)
INSERT INTO invoicing.payment_intents (id, customer, currency, amount)
VALUES (invoicing.generate_id('pi_'), 'cus_' || :w || '_' || :c, 'usd', :amt)
RETURNING id AS pi \gset
WITH p AS (
	INSERT INTO invoicing.invoice_payments
		(id, invoice, currency, payment_type, payment_intent, amount_requested)
	VALUES (invoicing.generate_id('inpay_'), 'in_' || :w || '_' || :k, 'usd',
			'payment_intent', :pi, :amt)
	RETURNING invoice
), pi AS (
	UPDATE invoicing.payment_intents SET invoice = 'in_' || :w || '_' || :k WHERE id = :pi
), u AS (
	UPDATE invoicing.invoices i SET open_payment_count = i.open_payment_count + 1
	  FROM p WHERE i.id = p.invoice
	RETURNING i.id
)
SELECT to_jsonb(i) || jsonb_build_object('payments', jsonb_build_object(
		   'object', 'list',
		   'data', (SELECT coalesce(jsonb_agg(to_jsonb(page)), '[]')
					  FROM (SELECT * FROM invoicing.invoice_payments ip
							 WHERE ip.invoice = i.id
							 ORDER BY ip.created DESC, ip.seq DESC LIMIT 10) page),
		   'has_more', true,
		   'url', '/v1/invoices/' || i.id || '/payments'))
  FROM u JOIN invoicing.invoices i ON i.id = u.id;
WITH pi AS (
	UPDATE invoicing.payment_intents SET status = 'succeeded', amount_received = amount
	 WHERE id = :pi RETURNING id
), p AS (
	UPDATE invoicing.invoice_payments p
	   SET status = 'paid', amount_paid = p.amount_requested, paid_at = now()
	  FROM pi WHERE p.payment_intent = pi.id
	RETURNING p.invoice, p.amount_paid
)
UPDATE invoicing.invoices i
   SET amount_paid = i.amount_paid + p.amount_paid,
	   amount_remaining = i.amount_remaining - p.amount_paid,
	   open_payment_count = i.open_payment_count - 1,
	   paid_payment_count = i.paid_payment_count + 1,
	   amount_refundable = i.amount_refundable + p.amount_paid
  FROM p WHERE i.id = p.invoice;
