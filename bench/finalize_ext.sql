-- W5: a draft with one line, finalized for a customer with credit (the
-- credit pays it at once), through the extension's functions.
\set k (:client_id % :stride) + :stride * random(0, :ninv / :stride - 1)
\set amt random(100, 10000)
SELECT invoicing.create_invoice('cus_' || :w || '_' || :k, 'usd') AS inv \gset
SELECT invoicing.add_invoice_line(:inv, :amt);
SELECT invoicing.finalize_invoice(:inv);
