-- W4 bare: the credit note row and the invoice's accumulators, triggers off.
\set k (:client_id % :stride) + :stride * random(0, :ninv / :stride - 1)
\set amt random(1, 1000)
WITH inv AS (
	UPDATE invoicing.invoices
	   SET pre_payment_credit_notes_amount = pre_payment_credit_notes_amount + :amt,
		   amount_due = amount_due - :amt, amount_remaining = amount_remaining - :amt,
		   credit_note_count = credit_note_count + 1
	 WHERE id = 'in_' || :w || '_' || :k
	RETURNING id, customer, currency, number, credit_note_count
)
INSERT INTO invoicing.credit_notes
	(id, invoice, amount, customer, currency, number, pre_payment_amount,
	 post_payment_amount, type)
SELECT invoicing.generate_id('cn_'), id, :amt, customer, currency,
	   number || '-CN-' || CASE WHEN credit_note_count < 10 THEN '0' ELSE '' END || credit_note_count, :amt, 0, 'pre_payment'
  FROM inv;
