-- credit_notes_balance: post-payment credit notes and customer balances
-- (issue 3; SPEC rule C, rule F, invariants 4, 5, 8 and 9; research S8, S9):
-- credit_amount becomes a credit_note balance transaction that the next
-- invoice uses; refunds capped by what was paid; notes on invoices that had
-- a balance applied; balances per currency.  Ids carry "cnb".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\i test/sql/include/cn_helpers.psql

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
