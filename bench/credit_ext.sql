-- W4: a credit note on a partially paid invoice, through the extension.
\set k (:client_id % :stride) + :stride * random(0, :ninv / :stride - 1)
\set amt random(1, 1000)
SELECT invoicing.create_credit_note('in_' || :w || '_' || :k, :amt);
