"""Database side of the model checker: connections, snapshots of the rows, comparison
with invmodel.Model, rebuilding a model from the rows (to continue after a mismatch),
and the independent recomputation of derived values used by stress and crash tests."""

import os
import sys

import psycopg2
import psycopg2.extensions

import invmodel as M

S = 'invoicing'


def connect(dbname=None, autocommit=True, **kw):
    conn = psycopg2.connect(dbname=dbname or os.environ.get('PGDATABASE', 'postgres'), **kw)
    conn.autocommit = autocommit
    return conn


def fresh_database(name, from_version=None):
    """Drop and create database `name` with the extension (installed at from_version and
    updated through the chain, when given); returns a connection to it."""
    admin = connect()
    cur = admin.cursor()
    cur.execute('DROP DATABASE IF EXISTS %s' % name)
    cur.execute('CREATE DATABASE %s' % name)
    admin.close()
    conn = connect(name)
    if from_version:
        conn.cursor().execute("CREATE EXTENSION invoicing VERSION '%s'" % from_version)
        conn.cursor().execute('ALTER EXTENSION invoicing UPDATE')
    else:
        conn.cursor().execute('CREATE EXTENSION invoicing')
    return conn


def drop_database(name):
    admin = connect()
    cur = admin.cursor()
    cur.execute('DROP DATABASE IF EXISTS %s' % name)
    admin.close()


class Outcome:
    def __init__(self, ok, rows=None, code=None, msg=None, rowcount=None):
        self.ok, self.rows, self.code, self.msg, self.rowcount = ok, rows, code, msg, rowcount

    def __repr__(self):
        if self.ok:
            return 'ok(rowcount=%s)' % self.rowcount
        return 'error %s: %s' % (self.code, (self.msg or '').strip().splitlines()[0])


def run_sql(conn, sql, savepoint=None):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        rows = cur.fetchall() if cur.description else None
        rowcount = cur.rowcount
        if savepoint:
            cur.execute('RELEASE SAVEPOINT %s' % savepoint)
        return Outcome(True, rows, rowcount=rowcount)
    except psycopg2.Error as e:
        if savepoint:
            cur.execute('ROLLBACK TO SAVEPOINT %s' % savepoint)
            cur.execute('RELEASE SAVEPOINT %s' % savepoint)
        elif not conn.autocommit:
            conn.rollback()
        return Outcome(False, code=e.pgcode, msg=str(e))


def q(conn, sql, params=None):
    cur = conn.cursor()
    cur.execute(sql, params)
    return cur.fetchall()


def lit(conn, sql, params):
    """The statement with its parameters inlined (for the replayable log)."""
    return conn.cursor().mogrify(sql, params).decode()


# ---------------------------------------------------------------------------
# Row counts and sums: "changes nothing" checks
# ---------------------------------------------------------------------------

COUNT_SQL = """
SELECT (SELECT count(*) FROM invoicing.customers),
       (SELECT count(*) FROM invoicing.invoices),
       (SELECT count(*) FROM invoicing.invoice_lines),
       (SELECT count(*) FROM invoicing.payment_intents),
       (SELECT count(*) FROM invoicing.invoice_payments),
       (SELECT count(*) FROM invoicing.credit_notes),
       (SELECT count(*) FROM invoicing.refunds),
       (SELECT count(*) FROM invoicing.customer_balance_transactions),
       (SELECT count(*) FROM invoicing.customer_balances),
       (SELECT count(*) FROM invoicing.events)
"""

FINGERPRINT_SQL = """
SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
  SELECT 'c' || row(c.id, c.email, c.name, c.metadata)::text AS x FROM invoicing.customers c
  UNION ALL SELECT 'i' || row(i.*)::text FROM invoicing.invoices i
  UNION ALL SELECT 'l' || row(l.*)::text FROM invoicing.invoice_lines l
  UNION ALL SELECT 'p' || row(p.*)::text FROM invoicing.payment_intents p
  UNION ALL SELECT 'y' || row(y.*)::text FROM invoicing.invoice_payments y
  UNION ALL SELECT 'n' || row(n.*)::text FROM invoicing.credit_notes n
  UNION ALL SELECT 'r' || row(r.*)::text FROM invoicing.refunds r
  UNION ALL SELECT 't' || row(t.*)::text FROM invoicing.customer_balance_transactions t
  UNION ALL SELECT 'b' || row(b.*)::text FROM invoicing.customer_balances b
  UNION ALL SELECT 'e' || row(e.id, e.type, e.object_id)::text FROM invoicing.events e
) s
"""


def counts(conn):
    return q(conn, COUNT_SQL)[0]


def fingerprint(conn):
    return q(conn, FINGERPRINT_SQL)[0][0]


def max_event_seq(conn):
    return q(conn, 'SELECT coalesce(max(seq), 0) FROM invoicing.events')[0][0]


def check_invariants(conn):
    return q(conn, 'SELECT * FROM invoicing.check_invariants()')


# ---------------------------------------------------------------------------
# Snapshots: the same normalised shape from the database and from the model
# ---------------------------------------------------------------------------

INV_COLS = ('id', 'customer', 'currency', 'status', 'collection_method', 'number', 'subtotal',
            'total', 'starting_balance', 'ending_balance', 'amount_due', 'amount_paid',
            'amount_remaining', 'amount_overpaid', 'pre_payment_credit_notes_amount',
            'post_payment_credit_notes_amount', 'finalized_at', 'paid_at', 'voided_at',
            'marked_uncollectible_at')


def db_customer(conn, cid):
    """Everything the SPEC says about one customer's objects, from the rows."""
    out = {'balances': {}, 'txns': [], 'invoices': {}, 'pis': {}}
    for cur_, bal in q(conn, 'SELECT currency, balance FROM invoicing.customer_balances '
                             'WHERE customer = %s', (cid,)):
        out['balances'][cur_] = bal
    for row in q(conn, 'SELECT currency, amount, type::text, invoice, credit_note, '
                       'ending_balance, description, id FROM '
                       'invoicing.customer_balance_transactions WHERE customer = %s '
                       'ORDER BY seq', (cid,)):
        out['txns'].append(row[:7])
    # drop balance rows of 0 that have no transaction (harmless)
    txn_curs = {t[0] for t in out['txns']}
    out['balances'] = {k: v for k, v in out['balances'].items() if k in txn_curs or v != 0}
    cols = ', '.join(INV_COLS)
    for row in q(conn, 'SELECT %s FROM invoicing.invoices WHERE customer = %%s' % cols, (cid,)):
        d = dict(zip(INV_COLS, row))
        for k in ('status', 'collection_method'):
            d[k] = str(d[k])
        for k in ('finalized_at', 'paid_at', 'voided_at', 'marked_uncollectible_at'):
            d[k] = d[k] is not None
        d['lines'] = sorted(q(conn, 'SELECT id, quantity, unit_amount, amount FROM '
                                    'invoicing.invoice_lines WHERE invoice = %s', (d['id'],)))
        d['payments'] = []
        for p in q(conn, """
                SELECT p.id, p.payment_type::text, p.payment_intent, p.payment_record,
                       p.amount_requested, p.status::text, p.amount_paid,
                       p.paid_at IS NOT NULL, p.canceled_at IS NOT NULL, p.currency,
                       p.is_default, p.reference,
                       (SELECT coalesce(sum(amount), 0) FROM invoicing.refunds r
                         WHERE r.invoice_payment = p.id)
                  FROM invoicing.invoice_payments p WHERE p.invoice = %s ORDER BY p.seq""",
                   (d['id'],)):
            d['payments'].append({
                'id': p[0], 'type': p[1], 'pi': p[2], 'prec': p[3] is not None and
                p[3].startswith('prec_'), 'requested': p[4], 'status': p[5],
                'amount_paid': p[6], 'paid_at': p[7], 'canceled_at': p[8], 'currency': p[9],
                'is_default': p[10], 'reference': p[11], 'refunded': int(p[12])})
        d['cns'] = []
        for c in q(conn, """
                SELECT c.id, c.amount, c.refund_amount, c.credit_amount, c.out_of_band_amount,
                       c.reason::text, c.memo, c.status::text, c.customer, c.currency, c.number,
                       c.pre_payment_amount, c.post_payment_amount, c.type::text,
                       c.voided_at IS NOT NULL, t.amount, t.type::text, t.credit_note,
                       c.customer_balance_transaction
                  FROM invoicing.credit_notes c
                  LEFT JOIN invoicing.customer_balance_transactions t
                    ON t.id = c.customer_balance_transaction
                 WHERE c.invoice = %s ORDER BY c.seq""", (d['id'],)):
            refunds = q(conn, 'SELECT invoice_payment, payment_intent, amount, currency '
                              'FROM invoicing.refunds WHERE credit_note = %s ORDER BY seq',
                        (c[0],))
            d['cns'].append({
                'id': c[0], 'amount': c[1], 'refund': c[2], 'credit': c[3], 'oob': c[4],
                'reason': c[5], 'memo': c[6], 'status': c[7], 'customer': c[8],
                'currency': c[9], 'number': c[10], 'pre': c[11], 'post': c[12],
                'type': c[13], 'voided_at': c[14],
                'txn': None if c[18] is None else (c[15], c[16], c[17]),
                'refunds': [tuple(r) for r in refunds]})
        out['invoices'][d['id']] = d
    for row in q(conn, 'SELECT id, customer, currency, amount, status::text, amount_received '
                       'FROM invoicing.payment_intents WHERE customer = %s', (cid,)):
        out['pis'][row[0]] = {'customer': row[1], 'currency': row[2], 'amount': row[3],
                              'status': row[4], 'amount_received': row[5]}
    return out


def model_customer(m, cid):
    c = m.customers[cid]
    out = {'balances': {}, 'txns': [], 'invoices': {}, 'pis': {}}
    for cur_ in c.currencies():
        out['balances'][cur_] = c.balance(cur_)
    txn_ids = {}
    for t in c.txns:
        cn = t.credit_note.id if isinstance(t.credit_note, M.CreditNote) else t.credit_note
        out['txns'].append((t.currency, t.amount, t.type, t.invoice, cn, t.ending_balance,
                            t.description))
    for inv in m.invoices.values():
        if inv.customer != cid:
            continue
        d = {'id': inv.id, 'customer': inv.customer, 'currency': inv.currency,
             'status': inv.status, 'collection_method': inv.collection_method,
             'number': inv.number, 'subtotal': inv.total, 'total': inv.total,
             'starting_balance': inv.starting_balance, 'ending_balance': inv.ending_balance,
             'amount_due': inv.amount_due, 'amount_paid': inv.amount_paid,
             'amount_remaining': inv.amount_remaining, 'amount_overpaid': inv.amount_overpaid,
             'pre_payment_credit_notes_amount': inv.PRE,
             'post_payment_credit_notes_amount': inv.POST,
             'finalized_at': inv.finalized, 'paid_at': inv.paid_at,
             'voided_at': inv.voided_at, 'marked_uncollectible_at': inv.marked_uncollectible_at}
        d['lines'] = sorted((l.id, l.quantity, l.unit_amount, l.amount) for l in inv.lines)
        d['payments'] = []
        for p in inv.payments:
            d['payments'].append({
                'id': p.id, 'type': p.type, 'pi': p.pi, 'prec': p.type == 'payment_record',
                'requested': p.amount_requested, 'status': p.status,
                'amount_paid': p.amount_paid, 'paid_at': p.status == 'paid',
                'canceled_at': p.status == 'canceled', 'currency': inv.currency,
                'is_default': False, 'reference': p.reference, 'refunded': p.refunded})
        d['cns'] = []
        for cn in inv.credit_notes:
            d['cns'].append({
                'id': cn.id, 'amount': cn.amount, 'refund': cn.refund, 'credit': cn.credit,
                'oob': cn.oob, 'reason': cn.reason, 'memo': cn.memo, 'status': cn.status,
                'customer': inv.customer, 'currency': inv.currency, 'number': cn.number,
                'pre': cn.pre, 'post': cn.post, 'type': cn.type, 'voided_at': cn.voided_at,
                'txn': None if cn.txn is None else (cn.txn.amount, 'credit_note', cn.id),
                'refunds': [(pay.id, pay.pi, amt, inv.currency) for pay, amt in cn.refunds]})
        out['invoices'][inv.id] = d
    for p in m.pis.values():
        if p.customer == cid:
            out['pis'][p.id] = {'customer': p.customer, 'currency': p.currency,
                                'amount': p.amount, 'status': p.status,
                                'amount_received': p.amount_received}
    return out


def bind_ids(m, db, cid):
    """Give model objects created in the last operation the ids the database chose
    (matched by position: both lists are in insertion order)."""
    for iid, dinv in db['invoices'].items():
        inv = m.invoices.get(iid)
        if inv is None:
            continue
        if inv.finalized and inv.number is None and dinv['number'] is not None:
            inv.number = dinv['number']
            for cn in inv.credit_notes:
                cn.number = '%s-CN-%02d' % (inv.number, cn.seqno)
        if len(inv.payments) == len(dinv['payments']):
            for p, dp in zip(inv.payments, dinv['payments']):
                if p.id is None:
                    p.id = dp['id']
        if len(inv.credit_notes) == len(dinv['cns']):
            for c, dc in zip(inv.credit_notes, dinv['cns']):
                if c.id is None:
                    c.id = dc['id']
                    if c.number is None and inv.number is not None:
                        c.number = '%s-CN-%02d' % (inv.number, c.seqno)


def diff(a, b, path=''):
    """Differences between model value a and database value b, as strings."""
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a:
                out.append('%s.%s: unexpected in database: %r' % (path, k, b[k]))
            elif k not in b:
                out.append('%s.%s: missing in database (model %r)' % (path, k, a[k]))
            else:
                out.extend(diff(a[k], b[k], '%s.%s' % (path, k)))
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append('%s: model has %d items, database %d: model %r database %r' %
                       (path, len(a), len(b), a, b))
        else:
            for i, (x, y) in enumerate(zip(a, b)):
                out.extend(diff(x, y, '%s[%d]' % (path, i)))
    elif isinstance(a, tuple) and isinstance(b, tuple):
        if a != b:
            out.append('%s: model %r database %r' % (path, a, b))
    elif a != b:
        out.append('%s: model %r database %r' % (path, a, b))
    return out


def compare_customer(conn, m, cid):
    db = db_customer(conn, cid)
    bind_ids(m, db, cid)
    return diff(model_customer(m, cid), db, cid)


def compare_all(conn, m):
    out = []
    dbc = {r[0] for r in q(conn, 'SELECT id FROM invoicing.customers')}
    if dbc != set(m.customers):
        out.append('customers: model %s database %s' % (sorted(set(m.customers) - dbc),
                                                         sorted(dbc - set(m.customers))))
    for cid in sorted(dbc & set(m.customers)):
        out.extend(compare_customer(conn, m, cid))
    dbp = {r[0]: r[1:] for r in q(conn, 'SELECT id, customer, currency, amount, status::text, '
                                        'amount_received FROM invoicing.payment_intents')}
    for pid, p in m.pis.items():
        want = (p.customer, p.currency, p.amount, p.status, p.amount_received)
        if dbp.get(pid) != want:
            out.append('payment_intent %s: model %r database %r' % (pid, want, dbp.get(pid)))
    for pid in set(dbp) - set(m.pis):
        out.append('payment_intent %s: unexpected in database' % pid)
    dbi = {r[0] for r in q(conn, 'SELECT id FROM invoicing.invoices')}
    if dbi != set(m.invoices):
        out.append('invoices: only model %s, only database %s' % (
            sorted(set(m.invoices) - dbi), sorted(dbi - set(m.invoices))))
    # generated ids: the prefix and 24 base-62 characters (SPEC §1); the fuzzer supplies
    # ids like cus_m12 itself, which are left alone
    for table, col, prefix in (('invoice_lines', 'id', 'il_'),
                               ('invoice_payments', 'id', 'inpay_'),
                               ('invoice_payments', 'payment_record', 'prec_'),
                               ('credit_notes', 'id', 'cn_'), ('refunds', 'id', 're_'),
                               ('customer_balance_transactions', 'id', 'cbtxn_'),
                               ('events', 'id', 'evt_')):
        bad = q(conn, "SELECT %s FROM invoicing.%s WHERE %s IS NOT NULL AND %s !~ '^%s[m]' "
                      "AND %s !~ '^%s[0-9A-Za-z]{24}$' LIMIT 3" % (
                          col, table, col, col, prefix, col, prefix))
        if bad:
            out.append('%s.%s: generated ids not %s + 24 base-62 characters: %r' % (
                table, col, prefix, bad))
    nums = q(conn, 'SELECT number, count(*) FROM invoicing.invoices WHERE number IS NOT NULL '
                   'GROUP BY number HAVING count(*) > 1')
    if nums:
        out.append('duplicate invoice numbers: %r' % nums)
    return out


# ---------------------------------------------------------------------------
# Rebuild a model from the rows (used to continue after a reported mismatch)
# ---------------------------------------------------------------------------

def load_model(conn):
    m = M.Model()
    for cid, email, name in q(conn, 'SELECT id, email, name FROM invoicing.customers'):
        m.customers[cid] = M.Customer(cid, email, name)
    for row in q(conn, 'SELECT id, customer, currency, status::text, collection_method::text, '
                       'number, starting_balance, ending_balance, finalized_at IS NOT NULL, '
                       'paid_at IS NOT NULL, voided_at IS NOT NULL, '
                       'marked_uncollectible_at IS NOT NULL, description '
                       'FROM invoicing.invoices ORDER BY created, id'):
        inv = M.Invoice(row[0], row[1], row[2], row[4])
        inv.description = row[12]
        (inv.status, inv.number, inv.starting_balance, inv.ending_balance, inv.finalized,
         inv.paid_at, inv.voided_at, inv.marked_uncollectible_at) = row[3], *row[5:12]
        m.invoices[inv.id] = inv
    for lid, iid, qty, unit, desc in q(conn, 'SELECT id, invoice, quantity, unit_amount, '
                                             'description FROM invoicing.invoice_lines '
                                             'ORDER BY created, id'):
        line = M.Line(lid, iid, qty, unit, desc)
        m.lines[lid] = line
        m.invoices[iid].lines.append(line)
    for row in q(conn, 'SELECT id, customer, currency, amount, status::text, amount_received '
                       'FROM invoicing.payment_intents'):
        m.pis[row[0]] = M.PaymentIntent(*row)
    pays = {}
    for row in q(conn, 'SELECT id, invoice, payment_type::text, payment_intent, '
                       'amount_requested, status::text, amount_paid, reference, '
                       '(SELECT coalesce(sum(amount), 0) FROM invoicing.refunds r '
                       '  WHERE r.invoice_payment = p.id) FROM invoicing.invoice_payments p '
                       'ORDER BY seq'):
        p = M.Payment(row[1], row[2], row[3], row[4], row[7])
        p.id, p.status, p.amount_paid, p.refunded = row[0], row[5], row[6], int(row[8])
        pays[p.id] = p
        m.invoices[p.invoice].payments.append(p)
        if p.pi:
            m.pis[p.pi].invoice, m.pis[p.pi].payment = p.invoice, p
    cns = {}
    for row in q(conn, 'SELECT id, invoice, amount, refund_amount, credit_amount, '
                       'out_of_band_amount, reason::text, memo, status::text, number, '
                       'pre_payment_amount, post_payment_amount FROM invoicing.credit_notes '
                       'ORDER BY seq'):
        cn = M.CreditNote(row[1], *row[2:8])
        cn.id, cn.status, cn.number, cn.pre, cn.post = row[0], row[8], row[9], row[10], row[11]
        cn.voided_at = cn.status == 'void'
        inv = m.invoices[cn.invoice]
        cn.seqno = len(inv.credit_notes) + 1
        inv.credit_notes.append(cn)
        cns[cn.id] = cn
    for cn_id, pay_id, amt in q(conn, 'SELECT credit_note, invoice_payment, amount FROM '
                                      'invoicing.refunds ORDER BY seq'):
        cns[cn_id].refunds.append([pays[pay_id], amt])
    for row in q(conn, 'SELECT customer, currency, amount, type::text, invoice, credit_note, '
                       'description, ending_balance FROM '
                       'invoicing.customer_balance_transactions ORDER BY seq'):
        t = M.Txn(*row[:7])
        t.ending_balance = row[7]
        if t.credit_note in cns:
            t.credit_note = cns[t.credit_note]
            t.credit_note.txn = t
        m.customers[t.customer].txns.append(t)
        if t.type == 'applied_to_invoice' and t.invoice in m.invoices:
            m.invoices[t.invoice].applied += t.amount
    return m


# ---------------------------------------------------------------------------
# Independent recomputation of every derived value from the base rows, in Python
# (used by the stress and crash tests alongside check_invariants()).
# ---------------------------------------------------------------------------

def recompute(conn):
    """Returns a list of mismatches between stored derived values and values recomputed
    here from base rows, following SPEC §4 (independent of check_invariants())."""
    out = []
    lines = {}
    for iid, amt, qty, unit in q(conn, 'SELECT invoice, amount, quantity, unit_amount FROM '
                                       'invoicing.invoice_lines'):
        if amt != qty * unit:
            out.append('line of %s: amount %d != %d * %d' % (iid, amt, qty, unit))
        lines[iid] = lines.get(iid, 0) + qty * unit
    paid, n_open, n_pay = {}, {}, {}
    pay_rows = q(conn, 'SELECT id, invoice, status::text, amount_paid, payment_intent, '
                       'amount_requested, payment_type::text FROM invoicing.invoice_payments')
    pis = {r[0]: r[1:] for r in q(conn, 'SELECT id, status::text, amount, amount_received '
                                        'FROM invoicing.payment_intents')}
    refunded = {}
    for pay_id, amt in q(conn, 'SELECT invoice_payment, sum(amount) FROM invoicing.refunds '
                               'GROUP BY invoice_payment'):
        refunded[pay_id] = int(amt)
    for pid, iid, st, ap, pi, req, ptype in pay_rows:
        n_pay[iid] = n_pay.get(iid, 0) + 1
        if (ap is None) != (st != 'paid'):
            out.append('payment %s: status %s amount_paid %s' % (pid, st, ap))
        if st == 'paid':
            paid[iid] = paid.get(iid, 0) + ap
            if refunded.get(pid, 0) > ap:
                out.append('payment %s: refunded %d > paid %d' % (pid, refunded[pid], ap))
        elif refunded.get(pid, 0):
            out.append('payment %s: refunds on an unpaid payment' % pid)
        if st == 'open':
            n_open[iid] = n_open.get(iid, 0) + 1
        if pi is not None:
            pst, pamt, prec = pis[pi]
            if req != pamt:
                out.append('payment %s: amount_requested %s != PI amount %s' % (pid, req, pamt))
            want = {'succeeded': 'paid', 'canceled': 'canceled'}.get(pst, 'open')
            if st != want:
                out.append('payment %s: status %s but PaymentIntent %s' % (pid, st, pst))
            if st == 'paid' and ap != min(req, prec):
                out.append('payment %s: amount_paid %s != min(%s, %s)' % (pid, ap, req, prec))
        elif ptype == 'payment_record' and (st != 'paid' or ap != req):
            out.append('payment %s: out-of-band payment %s %s/%s' % (pid, st, ap, req))
    for pid, (pst, pamt, prec) in pis.items():
        if pst == 'succeeded' and not (0 < prec <= pamt):
            out.append('payment_intent %s: amount_received %s of %s' % (pid, prec, pamt))
    pre, post, issued = {}, {}, {}
    for cid, iid, amt, st, pr, po, rf, cr, ob, typ in q(
            conn, 'SELECT id, invoice, amount, status::text, pre_payment_amount, '
                  'post_payment_amount, refund_amount, credit_amount, out_of_band_amount, '
                  'type::text FROM invoicing.credit_notes'):
        if pr + po != amt or rf + cr + ob != po or pr < 0 or po < 0:
            out.append('credit note %s: amount %s pre %s post %s dispositions %s/%s/%s' %
                       (cid, amt, pr, po, rf, cr, ob))
        want = 'pre_payment' if po == 0 else ('post_payment' if pr == 0 else 'mixed')
        if typ != want:
            out.append('credit note %s: type %s, want %s' % (cid, typ, want))
        if st == 'issued':
            pre[iid] = pre.get(iid, 0) + pr
            post[iid] = post.get(iid, 0) + po
            issued[iid] = issued.get(iid, 0) + amt
    for row in q(conn, 'SELECT id, status::text, subtotal, total, starting_balance, '
                       'ending_balance, amount_due, amount_paid, amount_remaining, '
                       'amount_overpaid, pre_payment_credit_notes_amount, '
                       'post_payment_credit_notes_amount, finalized_at IS NOT NULL, '
                       'paid_at IS NOT NULL FROM invoicing.invoices'):
        (iid, st, sub, tot, sb, eb, due, ap, rem, over, ipre, ipost, fin, pat) = row
        T = lines.get(iid, 0)
        if sub != T or tot != T:
            out.append('invoice %s: subtotal %s total %s lines %s' % (iid, sub, tot, T))
        P, PR, PO = paid.get(iid, 0), pre.get(iid, 0), post.get(iid, 0)
        if st == 'draft':
            want = (T, 0, max(0, T), 0, 0, None)
            have = (due, ap, rem, over, sb, eb)
            if want != have or n_pay.get(iid) or PR or PO:
                out.append('invoice %s: draft amounts %r want %r' % (iid, have, want))
            continue
        wdue = max(0, T + sb) - PR
        want = (wdue, P, max(0, wdue - P), max(0, P - wdue), PR, PO)
        have = (due, ap, rem, over, ipre, ipost)
        if want != have:
            out.append('invoice %s (%s): due/paid/remaining/overpaid/pre/post %r want %r' %
                       (iid, st, have, want))
        if issued.get(iid, 0) > T:
            out.append('invoice %s: issued credit notes %s > total %s' % (iid, issued[iid], T))
        if (st == 'paid') != (fin and st != 'void' and rem == 0):
            out.append('invoice %s: status %s with amount_remaining %s' % (iid, st, rem))
        if st == 'paid' and not pat:
            out.append('invoice %s: paid without paid_at' % iid)
        if st == 'void' and n_open.get(iid):
            out.append('invoice %s: void with open payments' % iid)
    # Limits that hold at every step, so also at the end (SPEC rules C, O, P):
    #  - amount_due never goes below 0 (a note's pre part is at most what remains);
    #  - out-of-band payments never overpay (each is at most amount_remaining), so their
    #    sum is at most the largest amount_due the invoice ever had;
    #  - amount_overpaid only grows, each growth credited: the invoice's
    #    invoice_overpaid transactions sum to -amount_overpaid.
    for iid, st, due, over, top, oob, credited in q(conn, """
            SELECT i.id, i.status::text, i.amount_due, i.amount_overpaid,
                   greatest(0, i.total + i.starting_balance),
                   (SELECT coalesce(sum(p.amount_paid), 0) FROM invoicing.invoice_payments p
                     WHERE p.invoice = i.id AND p.payment_type = 'payment_record'
                       AND p.status = 'paid'),
                   (SELECT coalesce(sum(t.amount), 0)
                      FROM invoicing.customer_balance_transactions t
                     WHERE t.invoice = i.id AND t.type = 'invoice_overpaid')
              FROM invoicing.invoices i WHERE i.status <> 'draft'"""):
        if due < 0:
            out.append('invoice %s: amount_due %s < 0' % (iid, due))
        if oob > top:
            out.append('invoice %s: out-of-band payments %s exceed the amount due %s' %
                       (iid, oob, top))
        if -credited != over:
            out.append('invoice %s: amount_overpaid %s but invoice_overpaid transactions %s'
                       % (iid, over, credited))
    # Rule F: finalization applied the balance the customer had then: the
    # applied_to_invoice transaction moved the balance from starting_balance to
    # ending_balance (so two finalizations never both used the same credit).
    for iid, sb, eb, t_amt, t_end in q(conn, """
            SELECT i.id, i.starting_balance, i.ending_balance, t.amount, t.ending_balance
              FROM invoicing.invoices i
              JOIN invoicing.customer_balance_transactions t
                ON t.invoice = i.id AND t.type = 'applied_to_invoice'"""):
        if t_amt != eb - sb or t_end != eb:
            out.append('invoice %s: starting_balance %s ending_balance %s, but its '
                       'applied_to_invoice transaction is %s with ending_balance %s' % (
                           iid, sb, eb, t_amt, t_end))
    running = {}
    for tid, cus, cur_, amt, eb in q(conn, 'SELECT id, customer, currency, amount, '
                                           'ending_balance FROM '
                                           'invoicing.customer_balance_transactions '
                                           'ORDER BY seq'):
        running[(cus, cur_)] = running.get((cus, cur_), 0) + amt
        if eb != running[(cus, cur_)]:
            out.append('transaction %s: ending_balance %s, running %s' %
                       (tid, eb, running[(cus, cur_)]))
    for cus, cur_, bal in q(conn, 'SELECT customer, currency, balance FROM '
                                  'invoicing.customer_balances'):
        if bal != running.get((cus, cur_), 0):
            out.append('balance %s/%s: %s, transactions %s' % (cus, cur_, bal,
                                                               running.get((cus, cur_), 0)))
        running.pop((cus, cur_), None)
    for k, v in running.items():
        out.append('balance %s/%s: no row, transactions %s' % (k[0], k[1], v))
    return out


def check_events(conn):
    """The event log matches the state: one invoice_payment.paid per paid payment (none
    for others), one credit_note.created per credit note, one credit_note.voided per void
    credit note, one invoice.finalized per finalized invoice, one invoice.paid per paid
    invoice, one invoice.voided per void invoice."""
    out = []
    rows = q(conn, """
      WITH ev AS (SELECT type, object_id, count(*) AS n FROM invoicing.events
                  GROUP BY type, object_id)
      SELECT 'invoice_payment.paid', p.id, p.status::text, coalesce(e.n, 0)
        FROM invoicing.invoice_payments p
        LEFT JOIN ev e ON e.object_id = p.id AND e.type = 'invoice_payment.paid'
       WHERE coalesce(e.n, 0) <> (p.status = 'paid')::int
      UNION ALL
      SELECT 'credit_note.created', c.id, c.status::text, coalesce(e.n, 0)
        FROM invoicing.credit_notes c
        LEFT JOIN ev e ON e.object_id = c.id AND e.type = 'credit_note.created'
       WHERE coalesce(e.n, 0) <> 1
      UNION ALL
      SELECT 'credit_note.voided', c.id, c.status::text, coalesce(e.n, 0)
        FROM invoicing.credit_notes c
        LEFT JOIN ev e ON e.object_id = c.id AND e.type = 'credit_note.voided'
       WHERE coalesce(e.n, 0) <> (c.status = 'void')::int
      UNION ALL
      SELECT 'invoice.finalized', i.id, i.status::text, coalesce(e.n, 0)
        FROM invoicing.invoices i
        LEFT JOIN ev e ON e.object_id = i.id AND e.type = 'invoice.finalized'
       WHERE coalesce(e.n, 0) <> (i.finalized_at IS NOT NULL)::int
      UNION ALL
      SELECT 'invoice.paid', i.id, i.status::text, coalesce(e.n, 0)
        FROM invoicing.invoices i
        LEFT JOIN ev e ON e.object_id = i.id AND e.type = 'invoice.paid'
       WHERE coalesce(e.n, 0) <> (i.status = 'paid')::int
      UNION ALL
      SELECT 'invoice.voided', i.id, i.status::text, coalesce(e.n, 0)
        FROM invoicing.invoices i
        LEFT JOIN ev e ON e.object_id = i.id AND e.type = 'invoice.voided'
       WHERE coalesce(e.n, 0) <> (i.status = 'void')::int
      UNION ALL
      SELECT 'orphan ' || e.type, e.object_id, NULL, count(*)
        FROM invoicing.events e
       WHERE NOT EXISTS (SELECT 1 FROM invoicing.invoices WHERE id = e.object_id)
         AND NOT EXISTS (SELECT 1 FROM invoicing.invoice_payments WHERE id = e.object_id)
         AND NOT EXISTS (SELECT 1 FROM invoicing.credit_notes WHERE id = e.object_id)
       GROUP BY e.type, e.object_id
    """)
    for typ, oid, st, n in rows:
        out.append('event log: %s for %s (status %s): %s events' % (typ, oid, st, n))
    return out
