-- The payment pipeline of pay_ext.sql in ONE transaction (for W3rr, at
-- REPEATABLE READ: a serialization failure rolls the whole pipeline back and
-- pgbench runs it again).
\set k (:client_id % :stride) + :stride * random(0, :ninv / :stride - 1)
\set c :k % :ncus
\set amt random(100, 10000)
BEGIN;
SELECT invoicing.create_payment_intent('cus_' || :w || '_' || :c, 'usd', :amt) AS pi \gset
SELECT invoicing.attach_payment('in_' || :w || '_' || :k, :pi);
SELECT invoicing.update_payment_intent(:pi, 'succeeded');
COMMIT;
