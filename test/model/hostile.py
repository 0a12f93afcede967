#!/usr/bin/python3
"""A table-driven catalogue of hostile inputs for every function (and the DML forms):
NULLs, empty strings, huge and negative amounts, wrong currencies, SQL metacharacters,
ids of the wrong kind, wrong statuses.  Each case must fail with its SPEC §5 SQLSTATE
and change nothing (a fingerprint of every row of every table, and the row counts, are
compared before and after; the case runs in its own transaction, which is committed
when the statement unexpectedly succeeds, so that a write is seen).

    /usr/bin/python3 test/model/hostile.py [--verbose]

Cases marked 'explore' are points the SPEC leaves open: their outcome is printed,
never failed.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as H  # noqa: E402

DB = 'inv_hostile'
MAX = 2 ** 63 - 1
MIN = -(2 ** 63)
META = "x'); DELETE FROM invoicing.invoices; --"

FIXTURE = """
SELECT invoicing.create_customer('h1@x', 'H1', 'cus_h1');
SELECT invoicing.create_customer('h2@x', 'H2', 'cus_h2');
SELECT invoicing.create_customer('big@x', 'Big', 'cus_big');
SELECT invoicing.create_customer('neg@x', 'Neg', 'cus_neg');
SELECT invoicing.adjust_customer_balance('cus_big', 'usd', 9223372036854775000);
SELECT invoicing.adjust_customer_balance('cus_neg', 'usd', -9223372036854775000);
-- a draft, a draft with a negative total, a draft at the bigint limit
SELECT invoicing.create_invoice('cus_h1', 'usd', 'send_invoice', 'in_draft');
SELECT invoicing.add_invoice_line('in_draft', 1000);
SELECT invoicing.create_invoice('cus_h1', 'usd', 'send_invoice', 'in_draft_neg');
SELECT invoicing.add_invoice_line('in_draft_neg', -5);
SELECT invoicing.create_invoice('cus_big', 'usd', 'send_invoice', 'in_draft_max');
SELECT invoicing.add_invoice_line('in_draft_max', 9223372036854775807);
-- open: 10000, an open payment of 500, a paid one of 1000, an issued pre-payment note
SELECT invoicing.create_invoice('cus_h1', 'usd', 'send_invoice', 'in_open');
SELECT invoicing.add_invoice_line('in_open', 10000);
SELECT invoicing.finalize_invoice('in_open');
SELECT invoicing.create_payment_intent('cus_h1', 'usd', 500, 'requires_payment_method', 'pi_att');
SELECT invoicing.attach_payment('in_open', 'pi_att');
SELECT invoicing.create_payment_intent('cus_h1', 'usd', 1000, 'succeeded', 'pi_succ');
SELECT invoicing.attach_payment('in_open', 'pi_succ');
SELECT invoicing.create_credit_note('in_open', 100);
-- open without payments (for void / uncollectible / attach)
SELECT invoicing.create_invoice('cus_h1', 'usd', 'send_invoice', 'in_open2');
SELECT invoicing.add_invoice_line('in_open2', 3000);
SELECT invoicing.finalize_invoice('in_open2');
-- paid out of band only, with a note
SELECT invoicing.create_invoice('cus_h1', 'usd', 'send_invoice', 'in_paid');
SELECT invoicing.add_invoice_line('in_paid', 2000);
SELECT invoicing.finalize_invoice('in_paid');
SELECT invoicing.pay_invoice('in_paid');
SELECT invoicing.create_credit_note('in_paid', 100, 0, 0, 100);
-- void with a voided note on it first
SELECT invoicing.create_invoice('cus_h1', 'usd', 'send_invoice', 'in_void');
SELECT invoicing.add_invoice_line('in_void', 700);
SELECT invoicing.finalize_invoice('in_void');
SELECT invoicing.create_credit_note('in_void', 50);
SELECT invoicing.void_credit_note((SELECT id FROM invoicing.credit_notes WHERE invoice = 'in_void'));
SELECT invoicing.void_invoice('in_void');
-- void, with a canceled payment on it
SELECT invoicing.create_invoice('cus_h1', 'usd', 'send_invoice', 'in_void2');
SELECT invoicing.add_invoice_line('in_void2', 700);
SELECT invoicing.finalize_invoice('in_void2');
SELECT invoicing.create_payment_intent('cus_h1', 'usd', 70, 'requires_payment_method', 'pi_v2');
SELECT invoicing.attach_payment('in_void2', 'pi_v2');
SELECT invoicing.update_payment_intent('pi_v2', 'canceled');
SELECT invoicing.void_invoice('in_void2');
-- uncollectible, with an issued note
SELECT invoicing.create_invoice('cus_h1', 'usd', 'send_invoice', 'in_unc');
SELECT invoicing.add_invoice_line('in_unc', 900);
SELECT invoicing.finalize_invoice('in_unc');
SELECT invoicing.create_credit_note('in_unc', 10);
SELECT invoicing.mark_uncollectible('in_unc');
-- PaymentIntents
SELECT invoicing.create_payment_intent('cus_h1', 'usd', 300, 'requires_payment_method', 'pi_free');
SELECT invoicing.create_payment_intent('cus_h1', 'usd', 300, 'canceled', 'pi_canc');
SELECT invoicing.create_payment_intent(NULL, 'usd', 300, 'requires_payment_method', 'pi_nocus');
SELECT invoicing.create_payment_intent('cus_h1', 'eur', 300, 'requires_payment_method', 'pi_eur');
SELECT invoicing.create_payment_intent('cus_h1', 'eur', 300, 'canceled', 'pi_canc_eur');
SELECT invoicing.create_payment_intent('cus_h2', 'usd', 300, 'requires_payment_method', 'pi_h2');
SELECT invoicing.create_payment_intent('cus_h1', 'usd', 999999, 'requires_payment_method', 'pi_big');
SELECT invoicing.create_payment_intent('cus_h1', 'usd', 9223372036854775807, 'succeeded', 'pi_max');
"""

CN_OPEN = "(SELECT id FROM invoicing.credit_notes WHERE invoice = 'in_open' LIMIT 1)"
CN_PAID = "(SELECT id FROM invoicing.credit_notes WHERE invoice = 'in_paid' LIMIT 1)"
CN_VOID = "(SELECT id FROM invoicing.credit_notes WHERE invoice = 'in_void' LIMIT 1)"
CN_UNC = "(SELECT id FROM invoicing.credit_notes WHERE invoice = 'in_unc' LIMIT 1)"
PAY_PAID = ("(SELECT id FROM invoicing.invoice_payments WHERE invoice = 'in_paid' LIMIT 1)")
TXN = "(SELECT id FROM invoicing.customer_balance_transactions ORDER BY seq LIMIT 1)"


def lit(v):
    if v is None:
        return 'NULL'
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str) and v.startswith('(SELECT'):
        return v
    return "'" + v.replace("'", "''") + "'"


def fn(name, *args):
    return 'SELECT invoicing.%s(%s)' % (name, ', '.join(lit(a) for a in args))


# (function, description, SQL, expected SQLSTATEs or 'explore')
CASES = []


def case(func, desc, sql, codes):
    CASES.append((func, desc, sql, codes))


def build():
    f = 'generate_id'
    case(f, 'NULL prefix', fn(f, None), ('22004',))
    case(f, 'unknown prefix', fn(f, 'bogus_'), 'explore')
    case(f, 'empty prefix', fn(f, ''), 'explore')

    f = 'create_customer'
    for bad in ['', 'in_x', 'CUS_x', 'cus', ' cus_x', META]:
        case(f, 'id %r (wrong prefix)' % bad, fn(f, None, None, bad), ('22023',))
    case(f, 'id of an existing customer', fn(f, None, None, 'cus_h1'), ('23505',))
    case(f, 'id is the bare prefix', fn(f, None, None, 'cus_'), 'explore')

    f = 'create_invoice'
    case(f, 'NULL customer', fn(f, None, 'usd'), ('22004',))
    case(f, 'NULL currency', fn(f, 'cus_h1', None), ('22004',))
    case(f, 'NULL collection_method', fn(f, 'cus_h1', 'usd', None), ('22004',))
    for bad in ['cus_nope', '', 'in_open', 'pi_free', META, "cus_h1' OR '1'='1"]:
        case(f, 'customer %r names no customer' % bad, fn(f, bad, 'usd'), ('P0002',))
    for bad in ['USD', 'Usd', '', 'usd ', 'us', 'usdd', 'u$d', META, '€']:
        case(f, 'currency %r' % bad, fn(f, 'cus_h1', bad), ('22023',))
    for bad in ['', 'bogus', 'SEND_INVOICE', META]:
        case(f, 'collection_method %r' % bad, fn(f, 'cus_h1', 'usd', bad), ('22023',))
    for bad in ['', 'cus_x', 'inv_x', META]:
        case(f, 'id %r (wrong prefix)' % bad, fn(f, 'cus_h1', 'usd', 'send_invoice', bad),
             ('22023',))
    case(f, 'id of an existing invoice', fn(f, 'cus_h1', 'usd', 'send_invoice', 'in_open'),
         ('23505',))

    f = 'add_invoice_line'
    case(f, 'NULL invoice', fn(f, None, 100), ('22004',))
    case(f, 'NULL unit_amount', fn(f, 'in_draft', None), ('22004',))
    case(f, 'NULL quantity', fn(f, 'in_draft', 100, None), ('22004',))
    for bad in ['in_nope', '', 'cus_h1', 'pi_free', META]:
        case(f, 'invoice %r names no invoice' % bad, fn(f, bad, 100), ('P0002',))
    for st in ['in_open', 'in_paid', 'in_void', 'in_unc']:
        case(f, 'invoice %s is not a draft' % st, fn(f, st, 100), ('55000',))
    case(f, 'quantity x unit_amount overflows', fn(f, 'in_draft', MAX, 2), ('22003',))
    case(f, 'negative overflow', fn(f, 'in_draft', MIN, 2), ('22003',))
    case(f, 'huge quantity overflows', fn(f, 'in_draft', 2 ** 40, 2 ** 31 - 1), ('22003',))
    case(f, 'total overflows', fn(f, 'in_draft_max', 1), ('22003',))
    case(f, 'quantity 0', fn(f, 'in_draft', 100, 0), 'explore')
    case(f, 'negative quantity', fn(f, 'in_draft', 100, -1), 'explore')

    f = 'finalize_invoice'
    case(f, 'NULL invoice', fn(f, None), ('22004',))
    for bad in ['in_nope', '', 'cus_h1', 'pi_free', META]:
        case(f, 'invoice %r names no invoice' % bad, fn(f, bad), ('P0002',))
    for st in ['in_open', 'in_paid', 'in_void', 'in_unc']:
        case(f, '%s is not a draft' % st, fn(f, st), ('55000',))
    case(f, 'negative total', fn(f, 'in_draft_neg'), ('22023',))
    case(f, 'total + customer balance overflows', fn(f, 'in_draft_max'), ('22003',))

    f = 'create_payment_intent'
    case(f, 'NULL currency', fn(f, 'cus_h1', None, 100), ('22004',))
    case(f, 'NULL amount', fn(f, 'cus_h1', 'usd', None), ('22004',))
    case(f, 'NULL status', fn(f, 'cus_h1', 'usd', 100, None), ('22004',))
    for bad in ['cus_nope', '', 'in_open', META]:
        case(f, 'customer %r names no customer' % bad, fn(f, bad, 'usd', 100), ('P0002',))
    for bad in ['USD', '', 'dollars', META]:
        case(f, 'currency %r' % bad, fn(f, 'cus_h1', bad, 100), ('22023',))
    for bad in [0, -1, MIN]:
        case(f, 'amount %d' % bad, fn(f, 'cus_h1', 'usd', bad), ('22023',))
    for bad in ['', 'bogus', 'Succeeded', 'paid', META]:
        case(f, 'status %r' % bad, fn(f, 'cus_h1', 'usd', 100, bad), ('22023',))
    for bad in ['', 'in_x', 'pi', META]:
        case(f, 'id %r (wrong prefix)' % bad, fn(f, 'cus_h1', 'usd', 100,
                                                 'requires_payment_method', bad), ('22023',))
    case(f, 'id of an existing PaymentIntent', fn(f, 'cus_h1', 'usd', 100,
                                                  'requires_payment_method', 'pi_free'),
         ('23505',))

    f = 'update_payment_intent'
    case(f, 'NULL payment_intent', fn(f, None, 'succeeded'), ('22004',))
    case(f, 'NULL status', fn(f, 'pi_free', None), ('22004',))
    for bad in ['pi_nope', '', 'in_open', 'cus_h1', META]:
        case(f, 'payment_intent %r names no PaymentIntent' % bad, fn(f, bad, 'succeeded'),
             ('P0002',))
    for bad in ['', 'bogus', 'SUCCEEDED', 'paid', META]:
        case(f, 'status %r' % bad, fn(f, 'pi_free', bad), ('22023',))
    for bad in [-1, 301, MAX, MIN]:
        case(f, 'amount_received %d on a 300 PaymentIntent' % bad,
             fn(f, 'pi_free', 'succeeded', bad), ('22023',))
    case(f, 'succeeded -> canceled', fn(f, 'pi_succ', 'canceled'), ('55000',))
    case(f, 'succeeded -> processing', fn(f, 'pi_succ', 'processing'), ('55000',))
    case(f, 'succeeded again with another amount_received', fn(f, 'pi_succ', 'succeeded', 5),
         ('55000',))
    case(f, 'canceled -> succeeded', fn(f, 'pi_canc', 'succeeded'), ('55000',))
    case(f, 'canceled -> requires_action', fn(f, 'pi_canc', 'requires_action'), ('55000',))

    f = 'attach_payment'
    case(f, 'NULL invoice', fn(f, None, 'pi_free'), ('22004',))
    case(f, 'NULL payment_intent', fn(f, 'in_open', None), ('22004',))
    for bad in ['in_nope', '', 'pi_free', 'cus_h1', META]:
        case(f, 'invoice %r names no invoice' % bad, fn(f, bad, 'pi_free'), ('P0002',))
    for bad in ['pi_nope', '', 'in_open', META]:
        case(f, 'payment_intent %r names none' % bad, fn(f, 'in_open', bad), ('P0002',))
    case(f, 'arguments swapped', fn(f, 'pi_free', 'in_open'), ('P0002',))
    case(f, 'PaymentIntent attached to another invoice', fn(f, 'in_open2', 'pi_att'),
         ('23505',))
    case(f, 'attached elsewhere wins over a void invoice', fn(f, 'in_void', 'pi_att'),
         ('23505',))
    for st in ['in_draft', 'in_paid', 'in_void']:
        case(f, 'invoice %s' % st, fn(f, st, 'pi_free'), ('55000',))
    case(f, 'canceled PaymentIntent', fn(f, 'in_open', 'pi_canc'), ('55000',))
    case(f, 'draft invoice wins over a canceled PaymentIntent', fn(f, 'in_draft', 'pi_canc'),
         ('55000',))
    case(f, 'other currency', fn(f, 'in_open', 'pi_eur'), ('22023',))
    case(f, 'other customer', fn(f, 'in_open', 'pi_h2'), ('22023',))
    case(f, 'no customer', fn(f, 'in_open', 'pi_nocus'), ('22023',))
    case(f, 'amount above amount_remaining', fn(f, 'in_open', 'pi_big'), ('22023',))
    case(f, 'bigint-limit amount', fn(f, 'in_open', 'pi_max'), ('22023',))
    case(f, 'invoice status wins over currency', fn(f, 'in_draft', 'pi_eur'), ('55000',))
    case(f, 'canceled wins over currency', fn(f, 'in_open', 'pi_canc_eur'), ('55000',))
    case(f, 'already attached here: no change, whatever the status', fn(f, 'in_open',
                                                                         'pi_att'), 'ok')
    case(f, 'already attached to this void invoice, canceled: no change',
         fn(f, 'in_void2', 'pi_v2'), 'ok')
    case(f, 'canceled PaymentIntent attached to a void invoice, attached elsewhere',
         fn(f, 'in_open2', 'pi_v2'), ('23505',))

    f = 'attach_out_of_band_payment'
    case(f, 'NULL invoice', fn(f, None, 10), ('22004',))
    case(f, 'NULL amount', fn(f, 'in_open', None), ('22004',))
    for bad in ['in_nope', '', 'cus_h1', META]:
        case(f, 'invoice %r names no invoice' % bad, fn(f, bad, 10), ('P0002',))
    for st in ['in_draft', 'in_paid', 'in_void']:
        case(f, 'invoice %s' % st, fn(f, st, 10, META), ('55000',))
    for bad in [0, -1, 8901, MAX, MIN]:
        case(f, 'amount %d (remaining 8900)' % bad, fn(f, 'in_open', bad), ('22023',))

    f = 'pay_invoice'
    case(f, 'NULL invoice', fn(f, None), ('22004',))
    for bad in ['in_nope', '', 'pi_free', META]:
        case(f, 'invoice %r names no invoice' % bad, fn(f, bad), ('P0002',))
    for st in ['in_draft', 'in_paid', 'in_void']:
        case(f, 'invoice %s' % st, fn(f, st), ('55000',))

    for f in ('void_invoice', 'mark_uncollectible'):
        case(f, 'NULL invoice', fn(f, None), ('22004',))
        for bad in ['in_nope', '', 'cus_h1', 'cn_x', META]:
            case(f, 'invoice %r names no invoice' % bad, fn(f, bad), ('P0002',))
        for st in ['in_draft', 'in_paid', 'in_void']:
            case(f, 'invoice %s' % st, fn(f, st), ('55000',))
        case(f, 'open payment on the invoice', fn(f, 'in_open'), ('55000',))
    case('mark_uncollectible', 'already uncollectible', fn('mark_uncollectible', 'in_unc'),
         ('55000',))

    for f in ('create_credit_note', 'preview_credit_note'):
        for k, arg in enumerate(['invoice', 'amount', 'refund_amount', 'credit_amount',
                                 'out_of_band_amount']):
            args = ['in_open', 10, 0, 0, 0]
            args[k] = None
            case(f, 'NULL %s' % arg, fn(f, *args), ('22004',))
        for bad in ['in_nope', '', 'cus_h1', 'pi_free', META]:
            case(f, 'invoice %r names no invoice' % bad, fn(f, bad, 10), ('P0002',))
        for st in ['in_draft', 'in_void']:
            case(f, 'invoice %s' % st, fn(f, st, 10), ('55000',))
        for bad in [0, -1, MIN]:
            case(f, 'amount %d' % bad, fn(f, 'in_open', bad), ('22023',))
        case(f, 'amount above the creditable amount', fn(f, 'in_open', 9901), ('22023',))
        case(f, 'amount at the bigint limit', fn(f, 'in_open', MAX), ('22023',))
        case(f, 'negative refund_amount', fn(f, 'in_paid', 10, -1, 11, 0), ('22023',))
        case(f, 'negative credit_amount', fn(f, 'in_paid', 10, 0, -1, 11), ('22023',))
        case(f, 'negative out_of_band_amount', fn(f, 'in_paid', 10, 11, 0, -1), ('22023',))
        case(f, 'dispositions short of the post part', fn(f, 'in_paid', 10, 0, 0, 9),
             ('22023',))
        case(f, 'dispositions above the post part', fn(f, 'in_paid', 10, 0, 5, 6), ('22023',))
        case(f, 'dispositions on a pre-payment note', fn(f, 'in_open', 10, 0, 10, 0),
             ('22023',))
        case(f, 'refund with nothing refundable (paid out of band)',
             fn(f, 'in_paid', 10, 10, 0, 0), ('22023',))
        case(f, 'dispositions overflow', fn(f, 'in_paid', 10, MAX, MAX, 0), ('22023', '22003'))
        for bad in ['', 'bogus', 'DUPLICATE', META]:
            case(f, 'reason %r' % bad, fn(f, 'in_open', 10, 0, 0, 0, bad), ('22023',))

    f = 'void_credit_note'
    case(f, 'NULL credit note', fn(f, None), ('22004',))
    for bad in ['cn_nope', '', 'in_open', META]:
        case(f, 'credit note %r names none' % bad, fn(f, bad), ('P0002',))
    case(f, 'already void', fn(f, CN_VOID), ('55000',))
    case(f, 'invoice paid', fn(f, CN_PAID), ('55000',))
    case(f, 'invoice uncollectible', fn(f, CN_UNC), ('55000',))

    f = 'adjust_customer_balance'
    case(f, 'NULL customer', fn(f, None, 'usd', 10), ('22004',))
    case(f, 'NULL currency', fn(f, 'cus_h1', None, 10), ('22004',))
    case(f, 'NULL amount', fn(f, 'cus_h1', 'usd', None), ('22004',))
    for bad in ['cus_nope', '', 'in_open', META]:
        case(f, 'customer %r names no customer' % bad, fn(f, bad, 'usd', 10), ('P0002',))
    for bad in ['USD', '', 'usd;', META]:
        case(f, 'currency %r' % bad, fn(f, 'cus_h1', bad, 10), ('22023',))
    case(f, 'balance overflows upwards', fn(f, 'cus_big', 'usd', 10 ** 4), ('22003',))
    case(f, 'balance overflows downwards', fn(f, 'cus_neg', 'usd', -10 ** 4), ('22003',))
    case(f, 'amount 0', fn(f, 'cus_h1', 'usd', 0), 'explore')

    for f, good in (('invoice_json', 'in_open'), ('invoice_payment_json', PAY_PAID),
                    ('credit_note_json', CN_OPEN), ('payment_intent_json', 'pi_free'),
                    ('customer_balance_transaction_json', TXN)):
        case(f, 'NULL id', fn(f, None), ('22004',))
        for bad in ['x_nope', '', 'cus_h1', META]:
            case(f, 'id %r names nothing' % bad, fn(f, bad), ('P0002',))
    case('invoice_json', 'unknown expand', "SELECT invoicing.invoice_json('in_open', "
                                           "'{bogus}')", ('22023',))

    # ---- the DML forms (SPEC §3: the same checks) ----
    D = 'dml'
    for table, col_sql in (('customers', "(id) VALUES ('in_x')"),
                           ('invoices', "(id, customer, currency) VALUES ('cus_x', 'cus_h1', "
                                        "'usd')"),
                           ('invoice_lines', "(id, invoice, unit_amount) VALUES ('in_x', "
                                             "'in_draft', 1)"),
                           ('payment_intents', "(id, customer, currency, amount) VALUES "
                                               "('in_x', 'cus_h1', 'usd', 5)"),
                           ('credit_notes', "(id, invoice, amount) VALUES ('in_x', 'in_open', "
                                            "5)"),
                           ('invoice_payments', "(id, invoice, payment_type, amount_requested)"
                                                " VALUES ('pi_x', 'in_open', 'payment_record',"
                                                " 5)"),
                           ('customer_balance_transactions', "(id, customer, currency, amount)"
                                                             " VALUES ('cn_x', 'cus_h1', "
                                                             "'usd', 5)")):
        case(D, 'INSERT INTO %s with an id of the wrong prefix' % table,
             'INSERT INTO invoicing.%s %s' % (table, col_sql), ('22023',))
    case(D, 'INSERT an invoice with currency USD', "INSERT INTO invoicing.invoices (customer, "
                                                   "currency) VALUES ('cus_h1', 'USD')",
         ('22023',))
    case(D, 'INSERT an invoice for no customer', "INSERT INTO invoicing.invoices (customer, "
                                                 "currency) VALUES ('cus_nope', 'usd')",
         ('P0002', '23503'))
    case(D, 'INSERT a line into an open invoice', "INSERT INTO invoicing.invoice_lines "
                                                 "(invoice, unit_amount) VALUES ('in_open', 1)",
         ('55000',))
    case(D, 'INSERT an out-of-band payment above remaining',
         "INSERT INTO invoicing.invoice_payments (invoice, payment_type, amount_requested) "
         "VALUES ('in_open', 'payment_record', 8901)", ('22023',))
    case(D, 'INSERT an out-of-band payment of 0',
         "INSERT INTO invoicing.invoice_payments (invoice, payment_type, amount_requested) "
         "VALUES ('in_open', 'payment_record', 0)", ('22023',))
    case(D, 'INSERT an attach of a canceled PaymentIntent',
         "INSERT INTO invoicing.invoice_payments (invoice, payment_intent) VALUES "
         "('in_open', 'pi_canc')", ('55000',))
    case(D, 'INSERT an attach to another invoice',
         "INSERT INTO invoicing.invoice_payments (invoice, payment_intent) VALUES "
         "('in_open2', 'pi_att')", ('23505',))
    case(D, 'INSERT a credit note above the creditable amount',
         "INSERT INTO invoicing.credit_notes (invoice, amount) VALUES ('in_open', 9901)",
         ('22023',))
    case(D, 'INSERT a balance transaction in USD',
         "INSERT INTO invoicing.customer_balance_transactions (customer, currency, amount) "
         "VALUES ('cus_h1', 'USD', 5)", ('22023',))
    case(D, 'INSERT a PaymentIntent of amount 0',
         "INSERT INTO invoicing.payment_intents (customer, currency, amount) VALUES "
         "('cus_h1', 'usd', 0)", ('22023',))
    case(D, 'INSERT a PaymentIntent succeeded with amount_received above amount',
         "INSERT INTO invoicing.payment_intents (customer, currency, amount, status, "
         "amount_received) VALUES ('cus_h1', 'usd', 10, 'succeeded', 11)", ('22023',))
    for sql in ("UPDATE invoicing.invoices SET amount_due = 1 WHERE id = 'in_open'",
                "UPDATE invoicing.invoices SET status = 'paid' WHERE id = 'in_open'",
                "UPDATE invoicing.invoices SET total = 0 WHERE id = 'in_draft'",
                "UPDATE invoicing.invoice_lines SET amount = 0 WHERE invoice = 'in_draft'",
                "UPDATE invoicing.invoice_payments SET amount_paid = 1 WHERE invoice = "
                "'in_paid'",
                "UPDATE invoicing.invoice_payments SET status = 'paid' WHERE payment_intent = "
                "'pi_att'",
                "UPDATE invoicing.credit_notes SET pre_payment_amount = 0 WHERE invoice = "
                "'in_open'",
                "UPDATE invoicing.customer_balances SET balance = 0 WHERE customer = 'cus_big'",
                "UPDATE invoicing.customer_balance_transactions SET ending_balance = 0 WHERE "
                "customer = 'cus_big'"):
        case(D, sql, sql, ('23514',))
    for sql in ("UPDATE invoicing.invoices SET status = 'draft' WHERE id = 'in_open'",
                "UPDATE invoicing.invoices SET status = 'open' WHERE id = 'in_void'",
                "UPDATE invoicing.invoices SET status = 'uncollectible' WHERE id = 'in_paid'",
                "UPDATE invoicing.invoices SET status = 'void' WHERE id = 'in_draft'",
                "UPDATE invoicing.invoices SET status = 'void' WHERE id = 'in_open'",
                "UPDATE invoicing.payment_intents SET status = 'processing' WHERE id = "
                "'pi_succ'",
                "UPDATE invoicing.credit_notes SET status = 'issued' WHERE invoice = 'in_void'",
                "UPDATE invoicing.credit_notes SET status = 'void' WHERE invoice = 'in_paid'",
                "DELETE FROM invoicing.invoices WHERE id = 'in_open2'",
                "DELETE FROM invoicing.invoice_payments WHERE invoice = 'in_paid'",
                "DELETE FROM invoicing.credit_notes WHERE invoice = 'in_open'",
                "DELETE FROM invoicing.customer_balance_transactions WHERE customer = 'cus_big'",
                "DELETE FROM invoicing.events",
                "TRUNCATE invoicing.events",
                "TRUNCATE invoicing.refunds",
                "TRUNCATE invoicing.customer_balance_transactions",
                "TRUNCATE invoicing.credit_notes CASCADE",
                "TRUNCATE invoicing.invoice_payments CASCADE",
                "TRUNCATE invoicing.invoices CASCADE"):
        case(D, sql, sql, ('55000',))


# Derived and internal columns given in an INSERT (SPEC §4: writes to derived columns are
# refused whoever writes them).  Accepted is fine only when the value given is not kept
# and every invariant still holds afterwards.
SWEEP_BASE = {
    'invoices': ("(id, customer, currency%s) VALUES ('in_sweep', 'cus_h1', 'usd'%s)",
                 "id = 'in_sweep'"),
    'invoice_lines': ("(id, invoice, unit_amount%s) VALUES ('il_sweep', 'in_draft', 5%s)",
                      "id = 'il_sweep'"),
    'payment_intents': ("(id, customer, currency, amount%s) VALUES ('pi_sweep', 'cus_h1', "
                        "'usd', 50%s)", "id = 'pi_sweep'"),
    'invoice_payments': ("(invoice, payment_type, amount_requested, reference%s) VALUES "
                         "('in_open', 'payment_record', 5, 'sweep'%s)", "reference = 'sweep'"),
    'invoice_payments/pi': ("(invoice, payment_intent%s) VALUES ('in_open', 'pi_free'%s)",
                            "payment_intent = 'pi_free'"),
    'credit_notes': ("(invoice, amount, memo%s) VALUES ('in_open', 5, 'sweep'%s)",
                     "memo = 'sweep'"),
    'customer_balance_transactions': ("(customer, currency, amount, description%s) VALUES "
                                      "('cus_h1', 'usd', 5, 'sweep'%s)",
                                      "description = 'sweep'"),
}
SWEEP = [
    ('invoices', c, v) for c, v in (
        ('subtotal', -900), ('total', -900), ('starting_balance', -900),
        ('ending_balance', -900), ('amount_due', -900), ('amount_paid', -900),
        ('amount_remaining', -900), ('amount_overpaid', -900),
        ('pre_payment_credit_notes_amount', -900), ('post_payment_credit_notes_amount', -900),
        ('open_payment_count', 7), ('paid_payment_count', 7), ('credit_note_count', 7),
        ('amount_refundable', -900), ('finalized_at', '2001-01-01'),
        ('paid_at', '2001-01-01'), ('voided_at', '2001-01-01'),
        ('marked_uncollectible_at', '2001-01-01'), ('number', 'SWEEP-1'))
] + [('invoice_lines', 'amount', -900),
     ('payment_intents', 'invoice', 'in_open')] + [
    ('invoice_payments', c, v) for c, v in (
        ('currency', 'eur'), ('status', 'open'), ('amount_paid', 900),
        ('paid_at', '2001-01-01'), ('canceled_at', '2001-01-01'), ('amount_refunded', -900),
        ('is_default', True), ('seq', 1))
] + [('invoice_payments/pi', c, v) for c, v in (('amount_refunded', -900), ('seq', 1),
                                                 ('status', 'paid'), ('amount_paid', 900))
     ] + [
    ('credit_notes', c, v) for c, v in (
        ('seq', 1), ('customer', 'cus_h2'), ('currency', 'eur'), ('number', 'X-CN-01'),
        ('pre_payment_amount', 0), ('post_payment_amount', 5), ('type', 'mixed'),
        ('voided_at', '2001-01-01'), ('customer_balance_transaction', 'cbtxn_x'))
] + [
    ('customer_balance_transactions', c, v) for c, v in (
        ('ending_balance', -900), ('seq', 0), ('type', 'credit_note'),
        ('invoice', 'in_open'), ('credit_note', 'cn_x'))
]


def sweep_case(cur, table, col, val):
    """Returns None when fine, else a description of the problem."""
    tmpl, where = SWEEP_BASE[table]
    real = table.split('/')[0]
    sql = 'INSERT INTO invoicing.%s %s' % (real, tmpl % (', ' + col, ', ' + lit(val)))
    cur.execute('BEGIN')
    try:
        try:
            cur.execute(sql)
        except Exception as e:  # noqa: BLE001
            return None, sql, getattr(e, 'pgcode', None)
        cur.execute('SELECT (%s)::text FROM invoicing.%s WHERE %s' % (col, real, where))
        kept = [r[0] for r in cur.fetchall()]
        cur.execute('SELECT * FROM invoicing.check_invariants()')
        bad = cur.fetchall()
        want = str(val).lower() if not isinstance(val, bool) else 'true'
        problems = []
        if any(k is not None and (k == want or k.startswith(want)) for k in kept):
            problems.append('the value given was kept (%r)' % kept)
        if bad:
            problems.append('check_invariants(): %r' % bad[:3])
        return ('; '.join(problems) or None), sql, 'ok'
    finally:
        cur.execute('ROLLBACK')


def load_fixture(cur):
    for stmt in FIXTURE.strip().split(';\n'):
        stmt = '\n'.join(l for l in stmt.splitlines() if not l.startswith('--')).strip()
        if stmt:
            cur.execute(stmt)


def run(verbose):
    conn = H.fresh_database(DB)
    cur = conn.cursor()
    load_fixture(cur)
    bad = H.check_invariants(conn) + [(p,) for p in H.recompute(conn)]
    if bad:
        print('hostile: the fixture itself breaks invariants: %r' % bad)
        return 1
    build()
    failed, explored, passed = [], [], 0
    for func, desc, sql, codes in CASES:
        fp0, n0, seq0 = H.fingerprint(conn), H.counts(conn), H.max_event_seq(conn)
        cur.execute('BEGIN')
        try:
            cur.execute(sql)
            got = 'ok'
            cur.execute('COMMIT')
        except Exception as e:  # noqa: BLE001
            got = getattr(e, 'pgcode', None) or type(e).__name__
            cur.execute('ROLLBACK')
        changed = (H.fingerprint(conn), H.counts(conn), H.max_event_seq(conn)) != (fp0, n0, seq0)
        if codes == 'explore':
            explored.append((func, desc, got, changed))
        elif codes == 'ok' and got == 'ok' and not changed:
            passed += 1
        elif got in codes and not changed:
            passed += 1
            if verbose:
                print('  ok    %-28s %-55s %s' % (func, desc[:55], got))
        else:
            failed.append((func, desc, sql, codes, got, changed))
        if got == 'ok' or changed:
            # the case wrote something: start the next case from a fresh fixture
            conn.close()
            conn = H.fresh_database(DB)
            cur = conn.cursor()
            load_fixture(cur)
    # derived and internal columns given in an INSERT
    sweep_failed = []
    for table, col, val in SWEEP:
        problem, sql, got = sweep_case(cur, table, col, val)
        if problem:
            sweep_failed.append((table, col, sql, problem))
        elif verbose:
            print('  ok    INSERT %s.%s -> %s' % (table, col, got))
    print('hostile: %d INSERTs naming a derived or internal column: %d refused or ignored, '
          '%d kept or broke an invariant' % (len(SWEEP), len(SWEEP) - len(sweep_failed),
                                             len(sweep_failed)))
    for table, col, sql, problem in sweep_failed:
        print('  FAIL  %s\n        %s' % (sql, problem))
    funcs = sorted({c[0] for c in CASES})
    print('hostile: %d cases over %d functions (and DML): %d passed, %d failed, %d explored' % (
        len(CASES), len(funcs) - 1, passed, len(failed), len(explored)))
    for func, desc, got, changed in explored:
        print('  explore %-26s %-50s -> %s%s' % (func, desc[:50], got,
                                                  ' (wrote rows)' if changed else ''))
    for func, desc, sql, codes, got, changed in failed:
        print('  FAIL  %s: %s\n        %s\n        expected %s, got %s%s' % (
            func, desc, sql, '/'.join(codes), got,
            '; rows changed' if changed else ''))
    conn.close()
    H.drop_database(DB)
    return 1 if failed or sweep_failed else 0


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--verbose', action='store_true')
    sys.exit(run(ap.parse_args().verbose))
