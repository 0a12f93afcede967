-- core_payments: rule P, PaymentIntent status changes as the processor
-- reports them.  succeeded credits each open payment with
-- min(amount_requested, amount_received) (amount_received omitted or 0 means
-- the amount, above the amount is 22023); canceled cancels open payments;
-- other statuses change no invoice; succeeded and canceled are final
-- (changing them is 55000, re-reporting the same is accepted and changes
-- nothing).  Overpayment through several open payments, amount_overpaid and
-- the invoice_overpaid balance transaction; the invoice becomes paid once.
-- Ids carry "pay".
SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS invoicing; RESET client_min_messages;
\i test/sql/include/core_helpers.psql

SELECT invoicing.create_customer(id => 'cus_pay1');
SELECT invoicing.create_invoice('cus_pay1', 'usd', id => 'in_pay1');
SELECT invoicing.add_invoice_line('in_pay1', 6000) IS NOT NULL AS added;
SELECT invoicing.add_invoice_line('in_pay1', 4000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_pay1')->>'status' AS status;

-- A PaymentIntent moving through the non-final statuses changes no invoice.
SELECT invoicing.create_payment_intent('cus_pay1', 'usd', 3000, id => 'pi_pay1a');
SELECT status, amount, amount_received FROM invoicing.payment_intents WHERE id = 'pi_pay1a';
SELECT invoicing.attach_payment('in_pay1', 'pi_pay1a') IS NOT NULL AS attached;
SELECT pg_temp.fp('pay') AS fp \gset
SELECT j->>'status' AS status, j->>'amount_received' AS amount_received
  FROM invoicing.update_payment_intent('pi_pay1a', 'requires_confirmation') AS j;
SELECT j->>'status' AS status FROM invoicing.update_payment_intent('pi_pay1a', 'requires_action') AS j;
SELECT j->>'status' AS status FROM invoicing.update_payment_intent('pi_pay1a', 'processing') AS j;
SELECT j->>'status' AS status FROM invoicing.update_payment_intent('pi_pay1a', 'requires_capture') AS j;
SELECT j->>'status' AS status FROM invoicing.update_payment_intent('pi_pay1a', 'requires_payment_method') AS j;
SELECT j->>'status' AS status FROM invoicing.update_payment_intent('pi_pay1a', 'processing') AS j;
SELECT * FROM inv WHERE id = 'in_pay1';
SELECT payment_intent, status, amount_requested, amount_paid, paid_at_set, canceled_at_set
  FROM pay WHERE invoice = 'in_pay1' ORDER BY payment_intent;
SELECT * FROM invoicing.check_invariants();

-- succeeded without amount_received: amount_received = amount; the payment
-- is paid with amount_paid = 3000 and the invoice credited (invariant 3).
SELECT j->>'status' AS status, j->>'amount_received' AS amount_received
  FROM invoicing.update_payment_intent('pi_pay1a', 'succeeded') AS j;
SELECT status, amount, amount_received FROM invoicing.payment_intents WHERE id = 'pi_pay1a';
SELECT payment_intent, status, amount_requested, amount_paid, paid_at_set, canceled_at_set
  FROM pay WHERE invoice = 'in_pay1' ORDER BY payment_intent;
SELECT * FROM inv WHERE id = 'in_pay1';
SELECT paid_at IS NULL AS not_paid FROM invoicing.invoices WHERE id = 'in_pay1';
SELECT * FROM invoicing.check_invariants();

-- Final statuses: re-reporting succeeded with nothing changed is accepted and
-- changes nothing (omitted amount_received, or the same amount_received).
SELECT pg_temp.fp('pay') AS fp \gset
SELECT j->>'status' AS status, j->>'amount_received' AS amount_received
  FROM invoicing.update_payment_intent('pi_pay1a', 'succeeded') AS j;
SELECT j->>'status' AS status, j->>'amount_received' AS amount_received
  FROM invoicing.update_payment_intent('pi_pay1a', 'succeeded', 3000) AS j;
UPDATE invoicing.payment_intents SET status = 'succeeded' WHERE id = 'pi_pay1a';
SELECT pg_temp.fp('pay') = :'fp' AS unchanged;
-- changing a succeeded PaymentIntent is 55000: another status, another
-- amount_received
SELECT invoicing.update_payment_intent('pi_pay1a', 'canceled');
SELECT invoicing.update_payment_intent('pi_pay1a', 'processing');
SELECT invoicing.update_payment_intent('pi_pay1a', 'requires_payment_method');
SELECT invoicing.update_payment_intent('pi_pay1a', 'succeeded', 2000);
UPDATE invoicing.payment_intents SET status = 'canceled' WHERE id = 'pi_pay1a';
UPDATE invoicing.payment_intents SET amount_received = 2999 WHERE id = 'pi_pay1a';
SELECT pg_temp.fp('pay') = :'fp' AS unchanged;
SELECT status, amount, amount_received FROM invoicing.payment_intents WHERE id = 'pi_pay1a';
SELECT payment_intent, status, amount_paid FROM pay WHERE invoice = 'in_pay1' ORDER BY payment_intent;
SELECT * FROM inv WHERE id = 'in_pay1';

-- A second PaymentIntent of 7000, attached while processing, succeeds with
-- amount_received 0 (= not reported: the amount): the invoice is paid.
SELECT invoicing.create_payment_intent('cus_pay1', 'usd', 7000, 'processing', 'pi_pay1b');
SELECT invoicing.attach_payment('in_pay1', 'pi_pay1b') IS NOT NULL AS attached;
SELECT payment_intent, status, amount_requested, amount_paid FROM pay
 WHERE invoice = 'in_pay1' ORDER BY payment_intent;
SELECT * FROM inv WHERE id = 'in_pay1';
SELECT j->>'status' AS status, j->>'amount_received' AS amount_received
  FROM invoicing.update_payment_intent('pi_pay1b', 'succeeded', 0) AS j;
SELECT payment_intent, status, amount_requested, amount_paid, paid_at_set FROM pay
 WHERE invoice = 'in_pay1' ORDER BY payment_intent;
SELECT * FROM inv WHERE id = 'in_pay1';
SELECT paid_at IS NOT NULL AS paid_at_set FROM invoicing.invoices WHERE id = 'in_pay1';
-- no overpayment, so no balance transaction
SELECT count(*) AS transactions FROM invoicing.customer_balance_transactions WHERE customer = 'cus_pay1';
SELECT * FROM invoicing.check_invariants();

-- amount_received below the amount: amount_paid = min(amount_requested,
-- amount_received).  Above the amount (or negative) it is 22023 and nothing
-- changes.
SELECT invoicing.create_invoice('cus_pay1', 'usd', id => 'in_pay2');
SELECT invoicing.add_invoice_line('in_pay2', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_pay2')->>'status' AS status;
SELECT invoicing.create_payment_intent('cus_pay1', 'usd', 4000, 'processing', 'pi_pay2a');
SELECT invoicing.attach_payment('in_pay2', 'pi_pay2a') IS NOT NULL AS attached;
SELECT pg_temp.fp('pay') AS fp \gset
SELECT invoicing.update_payment_intent('pi_pay2a', 'succeeded', 4001);
SELECT invoicing.update_payment_intent('pi_pay2a', 'succeeded', -1);
UPDATE invoicing.payment_intents SET status = 'succeeded', amount_received = 4001 WHERE id = 'pi_pay2a';
SELECT pg_temp.fp('pay') = :'fp' AS unchanged;
SELECT status, amount_received FROM invoicing.payment_intents WHERE id = 'pi_pay2a';
SELECT payment_intent, status, amount_paid FROM pay WHERE invoice = 'in_pay2';
SELECT * FROM inv WHERE id = 'in_pay2';
SELECT j->>'status' AS status, j->>'amount_received' AS amount_received
  FROM invoicing.update_payment_intent('pi_pay2a', 'succeeded', 2500) AS j;
SELECT payment_intent, status, amount_requested, amount_paid FROM pay WHERE invoice = 'in_pay2';
SELECT * FROM inv WHERE id = 'in_pay2';
-- re-reporting it identically is accepted and changes nothing; another
-- amount_received is 55000
SELECT pg_temp.fp('pay') AS fp \gset
SELECT j->>'amount_received' AS amount_received
  FROM invoicing.update_payment_intent('pi_pay2a', 'succeeded', 2500) AS j;
SELECT pg_temp.fp('pay') = :'fp' AS unchanged;
SELECT invoicing.update_payment_intent('pi_pay2a', 'succeeded', 4000);
SELECT pg_temp.fp('pay') = :'fp' AS unchanged;
SELECT * FROM invoicing.check_invariants();

-- canceled cancels the open payments of the PaymentIntent; the invoice does
-- not move.  canceled is final too.
SELECT invoicing.create_payment_intent('cus_pay1', 'usd', 5000, id => 'pi_pay2b');
SELECT invoicing.attach_payment('in_pay2', 'pi_pay2b') IS NOT NULL AS attached;
SELECT j->>'status' AS status, j->>'amount_received' AS amount_received
  FROM invoicing.update_payment_intent('pi_pay2b', 'canceled') AS j;
SELECT payment_intent, status, amount_requested, amount_paid, paid_at_set, canceled_at_set
  FROM pay WHERE invoice = 'in_pay2' ORDER BY payment_intent;
SELECT * FROM inv WHERE id = 'in_pay2';
SELECT pg_temp.fp('pay') AS fp \gset
SELECT j->>'status' AS status FROM invoicing.update_payment_intent('pi_pay2b', 'canceled') AS j;
UPDATE invoicing.payment_intents SET status = 'canceled' WHERE id = 'pi_pay2b';
SELECT pg_temp.fp('pay') = :'fp' AS unchanged;
SELECT invoicing.update_payment_intent('pi_pay2b', 'succeeded');
SELECT invoicing.update_payment_intent('pi_pay2b', 'processing');
UPDATE invoicing.payment_intents SET status = 'succeeded' WHERE id = 'pi_pay2b';
SELECT pg_temp.fp('pay') = :'fp' AS unchanged;
SELECT payment_intent, status, amount_paid FROM pay WHERE invoice = 'in_pay2' ORDER BY payment_intent;
SELECT * FROM invoicing.check_invariants();

-- A PaymentIntent created as succeeded has amount_received = amount.  Its
-- status changes touch no invoice while it is not attached.
SELECT invoicing.create_payment_intent('cus_pay1', 'usd', 800, 'succeeded', 'pi_pay_s');
SELECT status, amount, amount_received FROM invoicing.payment_intents WHERE id = 'pi_pay_s';
SELECT invoicing.create_payment_intent('cus_pay1', 'usd', 900, id => 'pi_pay_u');
SELECT j->>'status' AS status, j->>'amount_received' AS amount_received
  FROM invoicing.update_payment_intent('pi_pay_u', 'succeeded') AS j;
SELECT * FROM inv WHERE id LIKE 'in\_pay%' ORDER BY id;
SELECT count(*) AS payments FROM invoicing.invoice_payments WHERE payment_intent IN ('pi_pay_s', 'pi_pay_u');

-- A PaymentIntent that does not exist: P0002.
SELECT pg_temp.fp('pay') AS fp \gset
SELECT invoicing.update_payment_intent('pi_pay_missing', 'succeeded');
SELECT pg_temp.fp('pay') = :'fp' AS unchanged;

-- Overpayment: two open payments of 6000 on a 10000 invoice (each <=
-- amount_remaining when attached).  The first makes 10000/6000/4000/0; the
-- second pays the invoice: amount_paid 12000, amount_overpaid 2000, and an
-- invoice_overpaid transaction credits the customer -2000.
SELECT invoicing.create_customer(id => 'cus_pay2');
SELECT invoicing.create_invoice('cus_pay2', 'usd', id => 'in_pay3');
SELECT invoicing.add_invoice_line('in_pay3', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_pay3')->>'status' AS status;
SELECT invoicing.create_payment_intent('cus_pay2', 'usd', 6000, id => 'pi_pay3a');
SELECT invoicing.create_payment_intent('cus_pay2', 'usd', 6000, id => 'pi_pay3b');
SELECT invoicing.attach_payment('in_pay3', 'pi_pay3a') IS NOT NULL AS attached;
SELECT invoicing.attach_payment('in_pay3', 'pi_pay3b') IS NOT NULL AS attached;
SELECT * FROM inv WHERE id = 'in_pay3';
SELECT (invoicing.update_payment_intent('pi_pay3a', 'succeeded'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_pay3';
SELECT (invoicing.update_payment_intent('pi_pay3b', 'succeeded'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_pay3';
SELECT payment_intent, status, amount_requested, amount_paid FROM pay
 WHERE invoice = 'in_pay3' ORDER BY payment_intent;
SELECT type, amount, ending_balance, invoice FROM txn WHERE customer = 'cus_pay2' ORDER BY created, amount;
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_pay2';
SELECT * FROM invoicing.check_invariants();
-- the credit goes to the customer's next invoice: total 5000, starting
-- balance -2000, amount_due 3000, ending 0, applied_to_invoice +2000
SELECT invoicing.create_invoice('cus_pay2', 'usd', id => 'in_pay4');
SELECT invoicing.add_invoice_line('in_pay4', 5000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_pay4')->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_pay4';
SELECT type, amount, ending_balance, invoice FROM txn WHERE customer = 'cus_pay2' ORDER BY created, amount;
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_pay2';
SELECT * FROM invoicing.check_invariants();

-- The invoice becomes paid once: payments that succeed after it is paid
-- raise amount_paid and amount_overpaid, each growth credited as its own
-- invoice_overpaid transaction, and paid_at does not move.
SELECT invoicing.create_customer(id => 'cus_pay3');
SELECT invoicing.create_invoice('cus_pay3', 'usd', id => 'in_pay5');
SELECT invoicing.add_invoice_line('in_pay5', 10000) IS NOT NULL AS added;
SELECT invoicing.finalize_invoice('in_pay5')->>'status' AS status;
SELECT invoicing.create_payment_intent('cus_pay3', 'usd', 10000, id => 'pi_pay5a');
SELECT invoicing.create_payment_intent('cus_pay3', 'usd', 4000, id => 'pi_pay5b');
SELECT invoicing.create_payment_intent('cus_pay3', 'usd', 3000, id => 'pi_pay5c');
SELECT invoicing.attach_payment('in_pay5', 'pi_pay5a') IS NOT NULL AS attached;
SELECT invoicing.attach_payment('in_pay5', 'pi_pay5b') IS NOT NULL AS attached;
SELECT invoicing.attach_payment('in_pay5', 'pi_pay5c') IS NOT NULL AS attached;
SELECT (invoicing.update_payment_intent('pi_pay5a', 'succeeded'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_pay5';
SELECT paid_at FROM invoicing.invoices WHERE id = 'in_pay5' \gset
SELECT count(*) AS transactions FROM invoicing.customer_balance_transactions WHERE customer = 'cus_pay3';
SELECT (invoicing.update_payment_intent('pi_pay5b', 'succeeded'))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_pay5';
SELECT paid_at = :'paid_at' AS paid_at_unchanged FROM invoicing.invoices WHERE id = 'in_pay5';
SELECT (invoicing.update_payment_intent('pi_pay5c', 'succeeded', 1000))->>'status' AS status;
SELECT * FROM inv WHERE id = 'in_pay5';
SELECT paid_at = :'paid_at' AS paid_at_unchanged FROM invoicing.invoices WHERE id = 'in_pay5';
SELECT payment_intent, status, amount_requested, amount_paid FROM pay
 WHERE invoice = 'in_pay5' ORDER BY payment_intent;
SELECT type, amount, ending_balance, invoice FROM txn WHERE customer = 'cus_pay3' ORDER BY created, amount;
SELECT currency, balance FROM invoicing.customer_balances WHERE customer = 'cus_pay3';
SELECT * FROM invoicing.check_invariants();
