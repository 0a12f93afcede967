-- W5 bare: the same rows written with the triggers off.
\set k (:client_id % :stride) + :stride * random(0, :ninv / :stride - 1)
\set amt random(100, 10000)
INSERT INTO invoicing.invoices (id, customer, currency)
VALUES (invoicing.generate_id('in_'), 'cus_' || :w || '_' || :k, 'usd') RETURNING id AS inv \gset
WITH l AS (
	INSERT INTO invoicing.invoice_lines (id, invoice, unit_amount, amount)
	VALUES (invoicing.generate_id('il_'), :inv, :amt, :amt)
	RETURNING invoice, amount
)
UPDATE invoicing.invoices i
   SET total = i.total + l.amount, subtotal = i.subtotal + l.amount,
	   amount_due = i.amount_due + l.amount, amount_remaining = i.amount_remaining + l.amount
  FROM l WHERE i.id = l.invoice;
WITH b AS (
	UPDATE invoicing.customer_balances SET balance = balance + :amt
	 WHERE customer = 'cus_' || :w || '_' || :k AND currency = 'usd'
	RETURNING customer, balance
), t AS (
	INSERT INTO invoicing.customer_balance_transactions
		(id, customer, currency, amount, ending_balance, type, invoice)
	SELECT invoicing.generate_id('cbtxn_'), customer, 'usd', :amt, balance,
		   'applied_to_invoice', :inv
	  FROM b
)
UPDATE invoicing.invoices i
   SET status = 'paid',
	   number = 'INV-' || lpad(nextval('invoicing.invoice_number_seq')::text, 6, '0'),
	   starting_balance = b.balance - :amt, ending_balance = b.balance,
	   amount_due = 0, amount_remaining = 0, finalized_at = now(), paid_at = now()
  FROM b WHERE i.id = :inv;
