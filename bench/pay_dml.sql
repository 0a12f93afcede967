-- The same payment pipeline as plain DML on the extension's tables (SPEC 3:
-- the triggers apply the same rules), without the functions' JSON results.
\set k (:client_id % :stride) + :stride * random(0, :ninv / :stride - 1)
\set c :k % :ncus
\set amt random(100, 10000)
INSERT INTO invoicing.payment_intents (customer, currency, amount)
VALUES ('cus_' || :w || '_' || :c, 'usd', :amt) RETURNING id AS pi \gset
INSERT INTO invoicing.invoice_payments (invoice, payment_intent)
VALUES ('in_' || :w || '_' || :k, :pi);
UPDATE invoicing.payment_intents SET status = 'succeeded' WHERE id = :pi;
