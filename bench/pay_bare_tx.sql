-- The bare pipeline of pay_bare.sql in ONE transaction (W3rr's baseline).
\set k (:client_id % :stride) + :stride * random(0, :ninv / :stride - 1)
\set c :k % :ncus
\set amt random(100, 10000)
BEGIN;
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
)
UPDATE invoicing.invoices i SET open_payment_count = i.open_payment_count + 1
  FROM p WHERE i.id = p.invoice;
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
COMMIT;
