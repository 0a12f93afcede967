-- Payment pipeline through the extension's functions: create a PaymentIntent,
-- attach it to an open invoice, mark it succeeded (three statements, each
-- its own transaction, as an application would make them).
-- Variables (pgbench -D): w (workload tag in the ids), ninv (invoices of the
-- workload), stride (clients that share the invoice set: each client takes
-- the invoices k with k % stride = client_id % stride), ncus (customers).
\set k (:client_id % :stride) + :stride * random(0, :ninv / :stride - 1)
\set c :k % :ncus
\set amt random(100, 10000)
SELECT invoicing.create_payment_intent('cus_' || :w || '_' || :c, 'usd', :amt) AS pi \gset
SELECT invoicing.attach_payment('in_' || :w || '_' || :k, :pi);
SELECT invoicing.update_payment_intent(:pi, 'succeeded');
