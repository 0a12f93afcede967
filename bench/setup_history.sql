-- bench/setup_history.sql: W2's two invoices each get :w2_hist paid
-- PaymentIntent payments, through the extension, committed in batches so the
-- invoice row's versions can be pruned as it goes.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SELECT set_config('bench.w2_hist', :'w2_hist', false);
DO $$
DECLARE
	total	integer := current_setting('bench.w2_hist')::integer;
	batch	integer := 250;
	b		integer := 0;
BEGIN
	WHILE b * batch < total LOOP
		INSERT INTO invoicing.payment_intents (id, customer, currency, amount, status)
		SELECT 'pi_w2h_' || k || '_' || n, 'cus_w2_0', 'usd', 1000, 'succeeded'
		  FROM generate_series(0, 1) k,
			   generate_series(b * batch, least(total, (b + 1) * batch) - 1) n;
		INSERT INTO invoicing.invoice_payments (invoice, payment_intent)
		SELECT 'in_w2_' || k, 'pi_w2h_' || k || '_' || n
		  FROM generate_series(b * batch, least(total, (b + 1) * batch) - 1) n,
			   generate_series(0, 1) k
		 ORDER BY n, k;
		COMMIT;
		b := b + 1;
	END LOOP;
END
$$;
