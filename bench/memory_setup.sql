-- bench/memory_setup.sql: a helper for bench/memory.sh, in the bench database
-- only (schema "bench", not the extension's).  memory_batch(n) makes n rounds
-- of ten operations over every C path that allocates: SPI plans and rows,
-- jansson trees, event payloads and NOTIFY: the payment pipeline, a credit
-- note created, rendered and voided, a preview, and the JSON renderers.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS bench;
CREATE OR REPLACE FUNCTION bench.memory_batch(n integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	pi		text;
	cn		text;
	j		jsonb;
	ops		bigint := 0;
BEGIN
	FOR i IN 1..n LOOP
		pi := invoicing.create_payment_intent('cus_mem_0', 'usd', 1 + (i % 100));
		j := invoicing.attach_payment('in_mem_0', pi);
		j := invoicing.update_payment_intent(pi, 'succeeded');
		cn := invoicing.create_credit_note('in_mem_0', 1, memo => 'bench') ->> 'id';
		j := invoicing.credit_note_json(cn);
		j := invoicing.void_credit_note(cn);
		j := invoicing.preview_credit_note('in_mem_0', 2);
		j := invoicing.invoice_json('in_mem_0', '{payments}');
		j := invoicing.invoice_json('in_mem_0');
		j := invoicing.payment_intent_json(pi);
		ops := ops + 10;
	END LOOP;
	RETURN ops;
END
$$;
