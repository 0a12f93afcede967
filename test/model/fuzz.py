#!/usr/bin/python3
"""Seeded random operations against `invoicing`, checked after every operation against
the independent model of SPEC.md in invmodel.py.

    /usr/bin/python3 test/model/fuzz.py [--ops N] [--seed S] [--customers C]
                                        [--keep-going] [--max-failures K]

Needs PGHOST/PGPORT/PGUSER (a cluster with the extension installed); creates and
drops its own database.  Prints its seed; the same seed replays the same run.
On a mismatch it prints the operation, the expected and actual outcome, the
differences, and writes a replayable SQL history of the customers involved to
--failures-dir (default /tmp/invoicing-model-failures; exit status 1).  --keep-going reports, rebuilds the model
from the database, and continues (for bug hunting).
"""

import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import invmodel as M  # noqa: E402
import harness as H  # noqa: E402

HUGE = [M.INT64_MAX, M.INT64_MAX - 1, 2 ** 62, 2 ** 62 + 1, M.INT64_MIN, -(2 ** 62),
        M.INT64_MAX // 3]
NASTY_TEXT = ["o'brien", 'a"b', "x'); DELETE FROM invoicing.invoices; --", '\\', '%s %d',
              'ünïcødé ✓', '', ' ', 'NULL', "$$; select 1; $$", 'a\tb\nc']
REFERENCE_TEXT = [None, None, None, 'wire 42', "cheque 'x'", '']


class Raw:
    """An SQL fragment to paste as is (a sub-select naming a generated object)."""

    def __init__(self, sql):
        self.sql = sql

    def __repr__(self):
        return self.sql


def sqlv(conn, v):
    if isinstance(v, Raw):
        return v.sql
    return conn.cursor().mogrify('%s', (v,)).decode()


def cl(x):
    """Keep a generated amount a valid bigint literal."""
    return max(M.INT64_MIN, min(M.INT64_MAX, x))


def call(conn, fn, *args):
    return 'SELECT invoicing.%s(%s)' % (fn, ', '.join(sqlv(conn, a) for a in args))


# ---------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------

class Gen:
    def __init__(self, rng, m, n_customers):
        self.rng, self.m, self.n_customers = rng, m, n_customers
        self.n = 0
        self.cur_pref = {}

    def nid(self, prefix):
        self.n += 1
        return '%sm%d' % (prefix, self.n)

    def p(self, prob):
        return self.rng.random() < prob

    def choice(self, seq):
        seq = list(seq)
        return self.rng.choice(seq) if seq else None

    def via(self):
        return 'fn' if self.p(0.6) else 'dml'

    def amount(self, lo, hi):
        if self.p(0.01):
            return self.choice(HUGE)
        return self.rng.randint(lo, hi)

    def text(self):
        if self.p(0.15):
            return self.choice(NASTY_TEXT)
        return None if self.p(0.5) else 'memo %d' % self.rng.randint(1, 999)

    def currency_for(self, cid):
        if self.p(0.02):
            return self.choice(M.INVALID_CURRENCIES)
        prefs = self.cur_pref.setdefault(cid, self.rng.sample(['usd', 'eur', 'jpy'], 2))
        return prefs[0] if self.p(0.8) else prefs[1]

    def customer(self):
        if self.p(0.02):
            return self.choice(['cus_nope', 'in_m1', "cus_'; --"])
        return self.choice(self.m.customers) or 'cus_nope'

    # object pickers ---------------------------------------------------------
    def invoices(self, *statuses):
        return [i for i in self.m.invoices.values() if not statuses or i.status in statuses]

    def invoice(self, *statuses, p_any=0.1):
        inv = None
        if not self.p(p_any):
            inv = self.choice(self.invoices(*statuses))
        return inv or self.choice(self.invoices())

    def inv_ref(self, inv):
        if inv is None:
            return 'in_nope'
        return inv.id

    def bad_id(self, good):
        return self.choice(['in_nope', 'pi_nope', 'cus_nope', 'cn_nope', '', "x' OR '1'='1",
                            good[::-1] if good else 'zz'])

    # operations -------------------------------------------------------------
    def next(self):
        m = self.m
        if len(m.customers) < 3 or (len(m.customers) < self.n_customers and self.p(0.03)):
            return self.g_create_customer()
        n_open = sum(1 for i in m.invoices.values() if i.status in ('open', 'uncollectible'))
        n_draft = sum(1 for i in m.invoices.values() if i.status == 'draft')
        grow = 3 if n_open < 8 else 1       # keep a pool of open invoices to work on
        table = [
            (3, self.g_create_customer if len(m.customers) < self.n_customers * 1.5 else None),
            (4 * grow if n_draft < 12 else 1, self.g_create_invoice),
            (6 * grow, self.g_add_line), (2, self.g_line_dml),
            (1, self.g_delete_invoice), (5 * grow, self.g_finalize), (10, self.g_create_pi),
            (10, self.g_attach), (12, self.g_update_pi), (4, self.g_oob), (1, self.g_pay),
            (2, self.g_void), (2, self.g_uncollectible), (8, self.g_create_cn),
            (2, self.g_preview_cn), (3, self.g_void_cn), (5, self.g_adjust),
            (2, self.g_set_status), (2, self.g_derived_write), (1, self.g_protected_delete),
            (2, self.g_json_read), (2, self.g_describe),
        ]
        table = [(w, f) for w, f in table if f is not None]
        while True:
            r = self.rng.uniform(0, sum(w for w, _ in table))
            for w, f in table:
                r -= w
                if r <= 0:
                    break
            op = f()
            if op is not None:
                return op

    def g_create_customer(self):
        cid = self.nid('cus_')
        if self.p(0.03):
            cid = self.choice(['cust_x', 'in_m1', '', 'cus_']) if self.p(0.7) else \
                self.choice(self.m.customers)
        return dict(kind='create_customer', via=self.via(), cid=cid, email=self.text(),
                    name=self.text())

    def g_create_invoice(self):
        cus = self.customer()
        iid = self.nid('in_')
        if self.p(0.02):
            iid = self.choice(['inv_x', 'cus_x', '']) if self.p(0.7) else \
                self.choice(self.m.invoices) or iid
        cm = 'send_invoice' if self.p(0.7) else 'charge_automatically'
        if self.p(0.02):
            cm = self.choice(['', 'manual', 'SEND_INVOICE'])
        via = self.via()
        if via == 'fn' and self.p(0.02):
            cus = None
        return dict(kind='create_invoice', via=via, customer=cus,
                    currency=self.currency_for(cus), cm=cm, iid=iid)

    def g_add_line(self):
        inv = self.invoice('draft')
        if inv is None:
            return None
        r = self.rng.random()
        if r < 0.78:
            unit = self.amount(1, 5000)
        elif r < 0.92:
            unit = cl(-self.amount(1, 1500))
        elif r < 0.96:
            unit = 0
        else:
            unit = self.choice(HUGE)
        qty = self.rng.randint(1, 4)
        if self.p(0.01):
            qty = M.INT32_MAX
        via = self.via()
        if via == 'fn' and self.p(0.02):
            unit = None
        return dict(kind='add_line', via=via, invoice=inv.id, unit=unit, qty=qty,
                    description=self.text(), lid=self.nid('il_'))

    def line_ref(self, inv, line):
        k = inv.lines.index(line)
        return Raw("(SELECT id FROM invoicing.invoice_lines WHERE invoice = '%s' "
                   "ORDER BY created, id OFFSET %d LIMIT 1)" % (inv.id, k))

    def g_line_dml(self):
        inv = self.choice(i for i in self.m.invoices.values() if i.lines)
        if inv is None:
            return None
        line = self.choice(inv.lines)
        if self.p(0.5):
            return dict(kind='delete_line', via='dml', invoice=inv.id, line=line.id,
                        ref=self.line_ref(inv, line))
        unit = self.amount(-1000, 5000)
        return dict(kind='update_line', via='dml', invoice=inv.id, line=line.id,
                    ref=self.line_ref(inv, line), unit=unit, qty=self.rng.randint(1, 3))

    def g_delete_invoice(self):
        inv = self.invoice('draft', p_any=0.3)
        if inv is None:
            return None
        return dict(kind='delete_invoice', via='dml', invoice=inv.id)

    def g_finalize(self):
        drafts = [i for i in self.invoices('draft') if i.lines]
        if drafts and not self.p(0.12):
            inv = self.choice(drafts)
        else:
            inv = self.invoice()
        if inv is None:
            return None
        via = self.via()
        ref = inv.id
        if via == 'fn' and self.p(0.02):
            ref = self.choice([None, 'in_nope', 'pi_m1'])
        return dict(kind='finalize', via=via, invoice=ref)

    def g_create_pi(self):
        inv = self.invoice('open', 'uncollectible', p_any=0.15)
        if inv is None:
            cus, cur, rem = self.customer(), 'usd', 1000
        else:
            cus, cur, rem = inv.customer, inv.currency, max(1, inv.amount_remaining)
        if self.p(0.03):
            cus = None
        elif self.p(0.03):
            cus = self.customer()
        if self.p(0.03):
            cur = self.choice(['usd', 'eur', 'jpy'] + M.INVALID_CURRENCIES[:3])
        r = self.rng.random()
        if r < 0.15:
            amount = rem
        elif r < 0.85:
            amount = self.rng.randint(1, max(1, rem // self.choice([1, 2, 3, 4])))
        elif r < 0.95:
            amount = cl(rem + self.rng.randint(1, 500))
        else:
            amount = self.choice([0, -5, M.INT64_MAX, None])
        r = self.rng.random()
        status = ('requires_payment_method' if r < 0.5 else 'succeeded' if r < 0.72 else
                  'processing' if r < 0.82 else 'requires_capture' if r < 0.87 else
                  'canceled' if r < 0.93 else 'requires_action' if r < 0.98 else
                  self.choice(['SUCCEEDED', 'paid', '']))
        via = self.via()
        received = None
        if via == 'dml' and status == 'succeeded' and amount and self.p(0.4):
            received = self.choice([self.rng.randint(1, max(1, amount)), 0, cl(amount + 1)])
        if via == 'dml' and amount is None:
            amount = 0
        return dict(kind='create_pi', via=via, customer=cus, currency=cur, amount=amount,
                    status=status, pid=self.nid('pi_'), received=received)

    def g_update_pi(self):
        attached = [p for p in self.m.pis.values() if p.invoice]
        pi = self.choice(attached) if attached and self.p(0.75) else self.choice(
            self.m.pis.values())
        if pi is None:
            return None
        via = self.via()
        received = None
        if pi.status in M.PI_FINAL:
            if self.p(0.7):
                status = pi.status
                if pi.status == 'succeeded':
                    received = self.choice([None, None, pi.amount_received,
                                            max(1, pi.amount_received - 1)])
            else:
                status = self.choice(s for s in M.PI_STATUSES if s != pi.status)
        else:
            r = self.rng.random()
            if r < 0.5:
                status = 'succeeded'
                r2 = self.rng.random()
                if r2 < 0.5:
                    received = None
                elif r2 < 0.8:
                    received = self.rng.randint(1, pi.amount)
                elif r2 < 0.9:
                    received = 0
                else:
                    received = self.choice([cl(pi.amount + 1), -1])
            elif r < 0.65:
                status = 'canceled'
            elif r < 0.96:
                status = self.choice(s for s in M.PI_STATUSES[:5] if s != pi.status)
            elif r < 0.98:
                status = pi.status
            else:
                status = self.choice(['Succeeded', 'paid', ''])
        ref = pi.id
        if via == 'fn' and self.p(0.02):
            ref = self.choice(['pi_nope', None, 'in_m1'])
        return dict(kind='update_pi', via=via, pi=ref, status=status, received=received)

    def g_attach(self):
        free = [p for p in self.m.pis.values() if p.invoice is None]
        openinv = {}
        for i in self.invoices('open', 'uncollectible'):
            openinv.setdefault((i.customer, i.currency), []).append(i)
        good = [p for p in free if p.status != 'canceled' and (p.customer, p.currency) in
                openinv]
        if good and self.p(0.8):
            pi = self.choice(good)
            inv = self.choice(openinv[(pi.customer, pi.currency)])
        elif free and self.p(0.7):
            pi = self.choice(free)
            inv = self.invoice()
        else:
            pi = self.choice(self.m.pis.values())
            if pi is None:
                return None
            inv = self.m.invoices.get(pi.invoice) if pi.invoice and self.p(0.5) else \
                self.invoice()
        if inv is None:
            return None
        iref, pref = inv.id, pi.id
        via = self.via()
        if self.p(0.03):
            if self.p(0.5):
                iref = self.choice(['in_nope', pi.id, None if via == 'fn' else 'in_nope'])
            else:
                pref = self.choice(['pi_nope', inv.id, None if via == 'fn' else 'pi_nope'])
        return dict(kind='attach', via=via, invoice=iref, pi=pref)

    def g_oob(self):
        inv = self.invoice('open', 'uncollectible', p_any=0.12)
        if inv is None:
            return None
        rem = inv.amount_remaining
        r = self.rng.random()
        if r < 0.7:
            amount = self.rng.randint(1, max(1, rem // self.choice([1, 2, 3])))
        elif r < 0.8:
            amount = rem
        elif r < 0.9:
            amount = cl(rem + self.rng.randint(1, 100))
        else:
            amount = self.choice([0, -1, M.INT64_MAX, M.INT64_MIN])
        via = self.via()
        if via == 'fn' and self.p(0.02):
            amount = None
        return dict(kind='oob', via=via, invoice=inv.id, amount=amount,
                    reference=self.choice(REFERENCE_TEXT))

    def g_pay(self):
        inv = self.invoice('open', 'uncollectible', p_any=0.2)
        if inv is None:
            return None
        return dict(kind='pay', via='fn', invoice=inv.id)

    def g_void(self):
        inv = self.invoice('open', 'uncollectible', p_any=0.25)
        if inv is None:
            return None
        return dict(kind='void', via=self.via(), invoice=inv.id)

    def g_uncollectible(self):
        inv = self.invoice('open', p_any=0.25)
        if inv is None:
            return None
        return dict(kind='uncollectible', via=self.via(), invoice=inv.id)

    def _cn_args(self):
        inv = self.invoice('open', 'paid', 'uncollectible', p_any=0.08)
        if inv is None:
            return None
        avail = inv.total - inv.issued_amount
        r = self.rng.random()
        if avail <= 0 or r < 0.05:
            amount = self.choice([0, -3, cl(avail + 1), M.INT64_MAX])
        elif r < 0.75:
            amount = self.rng.randint(1, avail)
        elif r < 0.9:
            amount = avail
        elif r < 0.95:
            amount = min(avail, max(1, inv.amount_remaining))
        else:
            amount = cl(avail + self.rng.randint(1, 50))
        if inv.status in ('open', 'paid', 'uncollectible') and amount is not None:
            pre = min(max(amount, 0), inv.amount_remaining)
        else:
            pre = 0
        post = max(0, amount - pre)
        refund = self.rng.randint(0, max(0, min(post, inv.refundable)))
        credit = self.rng.randint(0, post - refund)
        oob = post - refund - credit
        r = self.rng.random()
        if r < 0.04:
            oob = cl(oob + self.choice([1, -1]))
        elif r < 0.07:
            refund, oob = cl(inv.refundable + 1), max(0, oob - inv.refundable - 1)
        elif r < 0.09:
            credit, oob = -1, cl(oob + 1)
        elif r < 0.095:
            refund, credit = M.INT64_MAX, M.INT64_MAX
        reason = self.choice([None, None] + M.CN_REASONS)
        if self.p(0.02):
            reason = self.choice(['refund', 'DUPLICATE', ''])
        return dict(invoice=inv.id, amount=amount, refund=refund, credit=credit, oob=oob,
                    reason=reason, memo=self.text())

    def g_create_cn(self):
        a = self._cn_args()
        if a is None:
            return None
        via = self.via()
        if via == 'fn' and self.p(0.01):
            a[self.choice(['amount', 'refund', 'credit', 'oob'])] = None
        a.update(kind='create_cn', via=via)
        return a

    def g_preview_cn(self):
        a = self._cn_args()
        if a is None:
            return None
        a.update(kind='preview_cn', via='fn')
        return a

    def cn_ref(self, cn):
        inv = self.m.invoices[cn.invoice]
        k = inv.credit_notes.index(cn)
        return Raw("(SELECT id FROM invoicing.credit_notes WHERE invoice = '%s' "
                   "ORDER BY seq OFFSET %d LIMIT 1)" % (inv.id, k))

    def g_void_cn(self):
        cns = [c for i in self.m.invoices.values() for c in i.credit_notes]
        good = [c for c in cns if c.status == 'issued' and
                self.m.invoices[c.invoice].status == 'open']
        cn = self.choice(good) if good and self.p(0.6) else self.choice(cns)
        if cn is None:
            return None
        return dict(kind='void_cn', via=self.via(), cn=cn, ref=self.cn_ref(cn))

    def g_adjust(self):
        cus = self.customer()
        amount = self.amount(-3000, 3000) or 7
        via = self.via()
        if via == 'fn' and self.p(0.01):
            amount = None
        return dict(kind='adjust', via=via, customer=cus, currency=self.currency_for(cus),
                    amount=amount, description=self.text())

    def g_set_status(self):
        inv = self.invoice()
        if inv is None:
            return None
        return dict(kind='set_status', via='dml', invoice=inv.id,
                    status=self.choice(M.INVOICE_STATUSES))

    DERIVED = {
        'invoices': ['subtotal = subtotal + 1', 'total = total + 1',
                     'starting_balance = starting_balance - 1',
                     'ending_balance = coalesce(ending_balance, 0) - 1',
                     'amount_due = amount_due + 1', 'amount_paid = amount_paid + 1',
                     'amount_remaining = amount_remaining + 1',
                     'amount_overpaid = amount_overpaid + 1',
                     'pre_payment_credit_notes_amount = pre_payment_credit_notes_amount + 1',
                     'post_payment_credit_notes_amount = post_payment_credit_notes_amount + 1',
                     "finalized_at = '2001-01-01'", "paid_at = '2001-01-01'",
                     "voided_at = '2001-01-01'", "marked_uncollectible_at = '2001-01-01'"],
        'invoice_lines': ['amount = amount + 1'],
        'invoice_payments': ['amount_paid = coalesce(amount_paid, 0) + 1',
                             "status = CASE WHEN status = 'paid' THEN 'canceled' "
                             "ELSE 'paid' END::invoicing.invoice_payment_status",
                             "paid_at = '2001-01-01'", "canceled_at = '2001-01-01'"],
        'credit_notes': ['pre_payment_amount = pre_payment_amount + 1',
                         'post_payment_amount = post_payment_amount + 1',
                         "type = CASE WHEN type = 'mixed' THEN 'pre_payment' ELSE 'mixed' "
                         "END::invoicing.credit_note_type", "number = 'X-1'",
                         "voided_at = '2001-01-01'", "currency = 'zzz'"],
        'customer_balances': ['balance = balance + 1'],
        'customer_balance_transactions': ['ending_balance = coalesce(ending_balance, 0) + 1'],
    }

    def g_derived_write(self):
        table = self.choice(self.DERIVED)
        setx = self.choice(self.DERIVED[table])
        row = self.any_row(table)
        if row is None:
            return None
        return dict(kind='derived_write', via='dml', table=table, set=setx, where=row[0],
                    customer=row[1])

    def any_row(self, table):
        m = self.m
        if table == 'invoices':
            inv = self.invoice()
            return inv and ("id = '%s'" % inv.id, inv.customer)
        if table == 'invoice_lines':
            inv = self.choice(i for i in m.invoices.values() if i.lines)
            return inv and ('id = %s' % self.line_ref(inv, inv.lines[0]).sql, inv.customer)
        if table == 'invoice_payments':
            inv = self.choice(i for i in m.invoices.values() if i.payments)
            if inv is None:
                return None
            k = self.rng.randrange(len(inv.payments))
            return ("id = (SELECT id FROM invoicing.invoice_payments WHERE invoice = '%s' "
                    "ORDER BY seq OFFSET %d LIMIT 1)" % (inv.id, k), inv.customer)
        if table == 'credit_notes':
            inv = self.choice(i for i in m.invoices.values() if i.credit_notes)
            return inv and ('id = %s' % self.cn_ref(inv.credit_notes[0]).sql, inv.customer)
        if table in ('customer_balances', 'customer_balance_transactions'):
            c = self.choice(c for c in m.customers.values() if c.txns)
            return c and ("customer = '%s'" % c.id, c.id)

    def g_protected_delete(self):
        m = self.m
        r = self.rng.random()
        if r < 0.2:
            c = self.choice(c for c in m.customers.values() if c.txns)
            return c and dict(kind='protected_delete', via='dml', customer=c.id,
                              sql="DELETE FROM invoicing.customer_balance_transactions "
                                  "WHERE id = (SELECT id FROM "
                                  "invoicing.customer_balance_transactions WHERE customer = "
                                  "'%s' ORDER BY seq DESC LIMIT 1)" % c.id)
        if r < 0.35:
            inv = self.choice(i for i in m.invoices.values()
                              if any(c.refunds for c in i.credit_notes))
            return inv and dict(kind='protected_delete', via='dml', customer=inv.customer,
                                sql="DELETE FROM invoicing.refunds WHERE credit_note IN "
                                    "(SELECT id FROM invoicing.credit_notes WHERE invoice = "
                                    "'%s')" % inv.id)
        if r < 0.5:
            inv = self.choice(i for i in m.invoices.values() if i.status != 'draft')
            return inv and dict(kind='protected_delete', via='dml', customer=inv.customer,
                                sql="DELETE FROM invoicing.events WHERE object_id = '%s'" %
                                    inv.id)
        if r < 0.7:
            inv = self.choice(i for i in m.invoices.values()
                              if any(p.status == 'paid' for p in i.payments))
            return inv and dict(kind='protected_delete', via='dml', customer=inv.customer,
                                sql="DELETE FROM invoicing.invoice_payments WHERE invoice = "
                                    "'%s' AND status = 'paid'" % inv.id)
        if r < 0.85:
            inv = self.choice(i for i in m.invoices.values() if i.credit_notes)
            return inv and dict(kind='protected_delete', via='dml', customer=inv.customer,
                                sql="DELETE FROM invoicing.credit_notes WHERE invoice = "
                                    "'%s'" % inv.id)
        inv = self.choice(i for i in m.invoices.values() if i.status != 'draft')
        return inv and dict(kind='delete_invoice', via='dml', invoice=inv.id)

    def g_describe(self):
        inv = self.invoice()
        if inv is None:
            return None
        d = self.choice([None, 'desc %d' % self.rng.randint(1, 9), inv.description,
                         self.choice(NASTY_TEXT)])
        return dict(kind='describe', via='dml', invoice=inv.id, description=d)

    def g_json_read(self):
        inv = self.invoice()
        if inv is None:
            return None
        return dict(kind='json_read', via='fn', invoice=inv.id)


# ---------------------------------------------------------------------------
# SQL for an operation, and the model's prediction
# ---------------------------------------------------------------------------

def build_sql(conn, op):
    k, via = op['kind'], op['via']
    v = lambda x: sqlv(conn, x)  # noqa: E731
    if k == 'create_customer':
        if via == 'fn':
            return call(conn, 'create_customer', op['email'], op['name'], op['cid'])
        return ('INSERT INTO invoicing.customers (id, email, name) VALUES (%s, %s, %s) '
                'RETURNING id' % (v(op['cid']), v(op['email']), v(op['name'])))
    if k == 'create_invoice':
        if via == 'fn':
            return call(conn, 'create_invoice', op['customer'], op['currency'], op['cm'],
                        op['iid'])
        return ('INSERT INTO invoicing.invoices (id, customer, currency, collection_method) '
                'VALUES (%s, %s, %s, %s) RETURNING id' % (v(op['iid']), v(op['customer']),
                                                          v(op['currency']), v(op['cm'])))
    if k == 'add_line':
        if via == 'fn':
            return call(conn, 'add_invoice_line', op['invoice'], op['unit'], op['qty'],
                        op['description'])
        return ('INSERT INTO invoicing.invoice_lines (id, invoice, unit_amount, quantity, '
                'description) VALUES (%s, %s, %s, %s, %s) RETURNING id' % (
                    v(op['lid']), v(op['invoice']), v(op['unit']), v(op['qty']),
                    v(op['description'])))
    if k == 'update_line':
        return ('UPDATE invoicing.invoice_lines SET unit_amount = %s, quantity = %s '
                'WHERE id = %s' % (v(op['unit']), v(op['qty']), op['ref'].sql))
    if k == 'delete_line':
        return 'DELETE FROM invoicing.invoice_lines WHERE id = %s' % op['ref'].sql
    if k == 'delete_invoice':
        return 'DELETE FROM invoicing.invoices WHERE id = %s' % v(op['invoice'])
    if k == 'finalize':
        if via == 'fn':
            return call(conn, 'finalize_invoice', op['invoice'])
        return "UPDATE invoicing.invoices SET status = 'open' WHERE id = %s" % v(op['invoice'])
    if k == 'create_pi':
        if via == 'fn':
            return call(conn, 'create_payment_intent', op['customer'], op['currency'],
                        op['amount'], op['status'], op['pid'])
        cols, vals = 'id, customer, currency, amount, status', [op['pid'], op['customer'],
                                                               op['currency'], op['amount'],
                                                               op['status']]
        if op['received'] is not None:
            cols += ', amount_received'
            vals.append(op['received'])
        return 'INSERT INTO invoicing.payment_intents (%s) VALUES (%s) RETURNING id' % (
            cols, ', '.join(v(x) for x in vals))
    if k == 'update_pi':
        if via == 'fn':
            return call(conn, 'update_payment_intent', op['pi'], op['status'], op['received'])
        extra = '' if op['received'] is None else ', amount_received = %s' % v(op['received'])
        return 'UPDATE invoicing.payment_intents SET status = %s%s WHERE id = %s' % (
            v(op['status']), extra, v(op['pi']))
    if k == 'attach':
        if via == 'fn':
            return call(conn, 'attach_payment', op['invoice'], op['pi'])
        return ('INSERT INTO invoicing.invoice_payments (invoice, payment_intent) VALUES '
                '(%s, %s)' % (v(op['invoice']), v(op['pi'])))
    if k == 'oob':
        if via == 'fn':
            return call(conn, 'attach_out_of_band_payment', op['invoice'], op['amount'],
                        op['reference'])
        return ("INSERT INTO invoicing.invoice_payments (invoice, payment_type, "
                "amount_requested, reference) VALUES (%s, 'payment_record', %s, %s)" % (
                    v(op['invoice']), v(op['amount']), v(op['reference'])))
    if k == 'pay':
        return call(conn, 'pay_invoice', op['invoice'])
    if k in ('void', 'uncollectible'):
        if via == 'fn':
            return call(conn, 'void_invoice' if k == 'void' else 'mark_uncollectible',
                        op['invoice'])
        return 'UPDATE invoicing.invoices SET status = %s WHERE id = %s' % (
            v('void' if k == 'void' else 'uncollectible'), v(op['invoice']))
    if k in ('create_cn', 'preview_cn'):
        args = [op['invoice'], op['amount'], op['refund'], op['credit'], op['oob'],
                op['reason'], op['memo']]
        if via == 'fn':
            return call(conn, 'create_credit_note' if k == 'create_cn' else
                        'preview_credit_note', *args)
        return ('INSERT INTO invoicing.credit_notes (invoice, amount, refund_amount, '
                'credit_amount, out_of_band_amount, reason, memo) VALUES (%s) RETURNING id' %
                ', '.join(v(x) for x in args))
    if k == 'void_cn':
        if via == 'fn':
            return call(conn, 'void_credit_note', op['ref'])
        return "UPDATE invoicing.credit_notes SET status = 'void' WHERE id = %s" % op['ref'].sql
    if k == 'adjust':
        if via == 'fn':
            return call(conn, 'adjust_customer_balance', op['customer'], op['currency'],
                        op['amount'], op['description'])
        return ('INSERT INTO invoicing.customer_balance_transactions (customer, currency, '
                'amount, description) VALUES (%s, %s, %s, %s) RETURNING id' % (
                    v(op['customer']), v(op['currency']), v(op['amount']),
                    v(op['description'])))
    if k == 'set_status':
        return 'UPDATE invoicing.invoices SET status = %s WHERE id = %s' % (
            v(op['status']), v(op['invoice']))
    if k == 'derived_write':
        return 'UPDATE invoicing.%s SET %s WHERE %s' % (op['table'], op['set'], op['where'])
    if k == 'protected_delete':
        return op['sql']
    if k == 'json_read':
        return call(conn, 'invoice_json', op['invoice'], Raw("'{payments}'"))
    if k == 'describe':
        return 'UPDATE invoicing.invoices SET description = %s WHERE id = %s' % (
            v(op['description']), v(op['invoice']))
    raise ValueError(k)


def apply_model(m, op, out):
    """Run the model for `op`.  Returns a result or raises Err/Amb.  `out` (the database
    outcome) is used only for ids the database generated."""
    k, fn = op['kind'], op['via'] == 'fn'
    new_id = out.rows[0][0] if out.ok and out.rows and out.rows[0] else None
    dummy = new_id or '__failed__'
    if k == 'create_customer':
        return m.create_customer(op['email'], op['name'], op['cid'], new_id=dummy)
    if k == 'create_invoice':
        return m.create_invoice(op['customer'], op['currency'], op['cm'], op['iid'], fn=fn,
                                new_id=dummy)
    if k == 'add_line':
        return m.add_line(op['invoice'], op['unit'], op['qty'], op['description'],
                          lid=None if fn else op['lid'], fn=fn, new_id=dummy)
    if k == 'update_line':
        return m.update_line(op['line'], op['unit'], op['qty'])
    if k == 'delete_line':
        return m.delete_line(op['line'])
    if k == 'delete_invoice':
        return m.delete_invoice(op['invoice'])
    if k == 'finalize':
        return m.finalize(op['invoice'], fn=fn)
    if k == 'create_pi':
        return m.create_pi(op['customer'], op['currency'], op['amount'], op['status'],
                           op['pid'], op['received'], fn=fn, new_id=dummy)
    if k == 'update_pi':
        if not fn and op['status'] not in M.PI_STATUSES:
            raise M.Err(('22023', '22P02'), 'bad enum in DML')
        return m.update_pi(op['pi'], op['status'], op['received'], fn=fn)
    if k == 'attach':
        if not fn and (op['invoice'] not in m.invoices or op['pi'] not in m.pis):
            if op['invoice'] not in m.invoices and op['pi'] not in m.pis:
                raise M.Err(('P0002', '23503'), 'no such rows')
            # DML naming a missing row: P0002 (SPEC §5) or the foreign key's 23503
            raise M.Err(('P0002', '23503'), 'no such row')
        return m.attach(op['invoice'], op['pi'], fn=fn)
    if k == 'oob':
        return m.attach_oob(op['invoice'], op['amount'], op['reference'], fn=fn)
    if k == 'pay':
        return m.pay_invoice(op['invoice'])
    if k == 'void':
        return m.void_invoice(op['invoice'], fn=fn)
    if k == 'uncollectible':
        return m.mark_uncollectible(op['invoice'], fn=fn)
    if k == 'create_cn':
        return m.create_cn(op['invoice'], op['amount'], op['refund'], op['credit'], op['oob'],
                           op['reason'], op['memo'], fn=fn)
    if k == 'preview_cn':
        return m.preview_cn(op['invoice'], op['amount'], op['refund'], op['credit'],
                            op['oob'], op['reason'], op['memo'])
    if k == 'void_cn':
        return m.void_cn(op['cn'], fn=fn)
    if k == 'adjust':
        return m.adjust_balance(op['customer'], op['currency'], op['amount'],
                                op['description'], fn=fn)
    if k == 'set_status':
        return m.set_invoice_status(op['invoice'], op['status'])
    if k == 'derived_write':
        # an UPDATE that matched no row changes nothing; otherwise refused
        if out.ok and out.rowcount == 0:
            return 'noop'
        # (22003: the "+ 1" itself overflowed a bigint at the limit)
        raise M.Err(('23514', '22003'), 'write to a derived column')
    if k == 'protected_delete':
        if out.ok and out.rowcount == 0:
            return 'noop'
        raise M.Err('55000', 'protected rows are never deleted')
    if k == 'describe':
        return m.set_description(op['invoice'], op['description'])
    if k == 'json_read':
        if op['invoice'] not in m.invoices:
            raise M.Err('P0002', 'no such invoice')
        return 'read'
    raise ValueError(k)


def op_keys(m, op):
    """Customers (and PaymentIntents) an operation involves, for the repro history."""
    keys = set()
    for a in ('customer', 'cid'):
        if op.get(a):
            keys.add(op[a])
    if op.get('invoice') in m.invoices:
        keys.add(m.invoices[op['invoice']].customer)
        keys.add(op['invoice'])
    if op.get('pi') in m.pis:
        keys.add(op['pi'])
        if m.pis[op['pi']].customer:
            keys.add(m.pis[op['pi']].customer)
    if op.get('pid'):
        keys.add(op['pid'])
    if op.get('cn') is not None:
        keys.add(m.invoices[op['cn'].invoice].customer)
    return {k for k in keys if isinstance(k, str)}


def customers_of(m, keys):
    return sorted(k for k in keys if k in m.customers)


# ---------------------------------------------------------------------------
# Checks of returned JSON and of the events of one operation
# ---------------------------------------------------------------------------

INVOICE_JSON_KEYS = ['amount_due', 'amount_paid', 'amount_remaining', 'amount_overpaid',
                     'ending_balance', 'number', 'post_payment_credit_notes_amount',
                     'pre_payment_credit_notes_amount', 'starting_balance', 'status',
                     'subtotal', 'total', 'currency', 'customer', 'collection_method']


def check_invoice_json(m, iid, js, expand):
    out = []
    inv = m.invoices.get(iid)
    if inv is None or not isinstance(js, dict):
        return ['invoice json for %s: %r' % (iid, js)]
    want = {'amount_due': inv.amount_due, 'amount_paid': inv.amount_paid,
            'amount_remaining': inv.amount_remaining, 'amount_overpaid': inv.amount_overpaid,
            'ending_balance': inv.ending_balance, 'number': inv.number,
            'post_payment_credit_notes_amount': inv.POST,
            'pre_payment_credit_notes_amount': inv.PRE,
            'starting_balance': inv.starting_balance, 'status': inv.status,
            'subtotal': inv.total, 'total': inv.total, 'currency': inv.currency,
            'customer': inv.customer, 'collection_method': inv.collection_method,
            'description': inv.description, 'id': inv.id, 'object': 'invoice'}
    for k2, w in want.items():
        if js.get(k2, '<absent>') != w:
            out.append('invoice json %s.%s: model %r json %r' % (iid, k2, w, js.get(k2,
                                                                                 '<absent>')))
    st = js.get('status_transitions') or {}
    for k2, w in (('finalized_at', inv.finalized), ('paid_at', inv.paid_at),
                  ('voided_at', inv.voided_at),
                  ('marked_uncollectible_at', inv.marked_uncollectible_at)):
        if (st.get(k2) is not None) != w:
            out.append('invoice json %s.status_transitions.%s: model set=%s json %r' %
                       (iid, k2, w, st.get(k2)))
    if expand:
        pays = js.get('payments')
        if not isinstance(pays, dict):
            return out + ['invoice json %s: payments not expanded: %r' % (iid, pays)]
        newest = list(reversed(inv.payments))
        want_ids = [p.id for p in newest[:10]]
        got_ids = [d.get('id') for d in pays.get('data', [])]
        if want_ids != got_ids:
            out.append('invoice json %s.payments.data ids: model %r json %r' % (iid, want_ids,
                                                                              got_ids))
        else:
            for p, d in zip(newest, pays['data']):
                if d.get('status') != p.status or d.get('amount_paid') != p.amount_paid or \
                        d.get('amount_requested') != p.amount_requested:
                    out.append('invoice json %s payment %s: model %s/%s/%s json %s/%s/%s' % (
                        iid, p.id, p.status, p.amount_paid, p.amount_requested,
                        d.get('status'), d.get('amount_paid'), d.get('amount_requested')))
        if pays.get('has_more') != (len(inv.payments) > 10):
            out.append('invoice json %s.payments.has_more: %r with %d payments' % (
                iid, pays.get('has_more'), len(inv.payments)))
        if pays.get('url') != '/v1/invoices/%s/payments' % iid:
            out.append('invoice json %s.payments.url: %r' % (iid, pays.get('url')))
    return out


def check_result(m, op, out, res):
    """The JSON a function returned, against the model after the operation."""
    k = op['kind']
    if op['via'] != 'fn' or not out.ok:
        return []
    js = out.rows[0][0] if out.rows else None
    if k in ('finalize', 'void', 'uncollectible'):
        return check_invoice_json(m, op['invoice'], js, False)
    if k in ('attach', 'oob', 'pay', 'json_read'):
        return check_invoice_json(m, op['invoice'], js, True)
    if k == 'create_cn':
        cn = res
        probs = []
        want = {'amount': cn.amount, 'pre_payment_amount': cn.pre,
                'post_payment_amount': cn.post, 'type': cn.type, 'status': 'issued',
                'out_of_band_amount': cn.oob, 'subtotal': cn.amount, 'total': cn.amount,
                'invoice': cn.invoice, 'number': cn.number, 'reason': cn.reason,
                'memo': cn.memo, 'object': 'credit_note'}
        for k2, w in want.items():
            if js.get(k2, '<absent>') != w:
                probs.append('credit note json %s: model %r json %r' % (k2, w, js.get(k2)))
        got_ref = [r.get('amount_refunded') for r in js.get('refunds') or []]
        if got_ref != [a for _, a in cn.refunds]:
            probs.append('credit note json refunds: model %r json %r' % (
                [a for _, a in cn.refunds], got_ref))
        if (js.get('customer_balance_transaction') is None) != (cn.credit == 0):
            probs.append('credit note json customer_balance_transaction %r with credit %d' %
                         (js.get('customer_balance_transaction'), cn.credit))
        return probs
    if k == 'preview_cn':
        probs = []
        for k2 in ('amount', 'pre_payment_amount', 'post_payment_amount', 'type',
                   'out_of_band_amount'):
            if js.get(k2) != res[k2]:
                probs.append('preview json %s: model %r json %r' % (k2, res[k2], js.get(k2)))
        got_ref = [r.get('amount_refunded') for r in js.get('refunds') or []]
        if got_ref != res['refunds']:
            probs.append('preview json refunds: model %r json %r' % (res['refunds'], got_ref))
        return probs
    if k == 'update_pi':
        p = m.pis.get(op['pi'])
        if p and (js.get('status') != p.status or js.get('amount_received') !=
                  p.amount_received or js.get('amount') != p.amount):
            return ['payment_intent json: model %s/%s json %s/%s' % (
                p.status, p.amount_received, js.get('status'), js.get('amount_received'))]
    if k == 'void_cn':
        if js.get('status') != 'void' or js.get('voided_at') is None:
            return ['void credit note json: status %r voided_at %r' % (js.get('status'),
                                                                       js.get('voided_at'))]
    if k == 'adjust':
        c = m.customers[op['customer']]
        t = c.txns[-1]
        if js.get('amount') != t.amount or js.get('ending_balance') != t.ending_balance or \
                js.get('type') != 'adjustment':
            return ['balance transaction json: model %s/%s json %s/%s/%s' % (
                t.amount, t.ending_balance, js.get('amount'), js.get('ending_balance'),
                js.get('type'))]
    return []


def ev_id(o):
    return o if isinstance(o, str) else o.id


def check_events(m, events, db_events):
    out = []
    want = [(t, ev_id(o)) for t, o, _ in events]
    got = [(t, o) for _, t, o, _ in db_events]
    if want != got:
        return ['events: model %r database %r' % (want, got)]
    for (t, o, extra), (_, _, _, payload) in zip(events, db_events):
        data = (payload or {}).get('data') or {}
        if payload.get('type') != t or (data.get('object') or {}).get('id') != ev_id(o):
            out.append('event %s payload type/object mismatch: %r' % (t, payload.get('type')))
        # SPEC §6: id object api_version created data{object, previous_attributes?}
        # livemode pending_webhooks request{id, idempotency_key} type
        missing = {'id', 'object', 'api_version', 'created', 'data', 'livemode',
                   'pending_webhooks', 'request', 'type'} - set(payload)
        if missing:
            out.append('event %s payload lacks %s' % (t, sorted(missing)))
        if payload.get('object') != 'event' or payload.get('livemode') is not False or \
                payload.get('api_version') != '2025-05-28.basil' or \
                not str(payload.get('id', '')).startswith('evt_'):
            out.append('event %s payload object/livemode/api_version/id: %r %r %r %r' % (
                t, payload.get('object'), payload.get('livemode'), payload.get('api_version'),
                payload.get('id')))
        want_obj = t.split('.')[0]
        if (data.get('object') or {}).get('object') != want_obj:
            out.append('event %s data.object.object = %r' % (
                t, (data.get('object') or {}).get('object')))
        if not isinstance(payload.get('request'), dict) or \
                set(payload['request']) != {'id', 'idempotency_key'}:
            out.append('event %s request = %r' % (t, payload.get('request')))
        if t != 'invoice.updated' and 'previous_attributes' in data:
            out.append('event %s has previous_attributes' % t)
        obj = data.get('object') or {}
        if t == 'invoice_payment.paid':
            want = {'status': 'paid', 'amount_paid': o.amount_paid,
                    'amount_requested': o.amount_requested, 'invoice': o.invoice}
        elif t in ('credit_note.created', 'credit_note.voided'):
            want = {'amount': o.amount, 'pre_payment_amount': o.pre,
                    'post_payment_amount': o.post, 'type': o.type, 'invoice': o.invoice,
                    'status': 'issued' if t == 'credit_note.created' else 'void'}
        elif t.startswith('invoice.') and o in m.invoices:
            inv = m.invoices[o]
            want = {'status': inv.status, 'amount_paid': inv.amount_paid,
                    'amount_remaining': inv.amount_remaining,
                    'amount_overpaid': inv.amount_overpaid}
        else:
            want = {}
        for key, w in want.items():
            if obj.get(key, '<absent>') != w:
                out.append('event %s data.object.%s = %r, model %r' % (t, key, obj.get(key),
                                                                        w))
        if t != 'invoice.updated':
            continue
        prev = data.get('previous_attributes')
        if not isinstance(prev, dict):
            out.append('invoice.updated for %s without previous_attributes' % o)
            continue
        changed = set(extra['changed'])
        if set(prev) != changed:
            out.append('invoice.updated %s previous_attributes keys %s, changed %s' % (
                o, sorted(prev), sorted(changed)))
        for key in changed & set(prev):
            if key != 'status_transitions' and prev[key] != extra['before'][key]:
                out.append('invoice.updated %s previous_attributes.%s = %r, was %r' % (
                    o, key, prev[key], extra['before'][key]))
        inv = m.invoices.get(o)
        obj = data.get('object') or {}
        if inv is not None:
            for key in ('amount_due', 'amount_paid', 'amount_remaining', 'amount_overpaid',
                        'status', 'pre_payment_credit_notes_amount',
                        'post_payment_credit_notes_amount'):
                if obj.get(key) != inv.visible()[key]:
                    out.append('invoice.updated %s data.object.%s = %r, model %r' % (
                        o, key, obj.get(key), inv.visible()[key]))
    return out


def model_counts(m):
    pays = [p for i in m.invoices.values() for p in i.payments]
    cns = [c for i in m.invoices.values() for c in i.credit_notes]
    return (len(m.customers), len(m.invoices), len(m.lines), len(m.pis), len(pays), len(cns),
            sum(len(c.refunds) for c in cns), sum(len(c.txns) for c in m.customers.values()))


# ---------------------------------------------------------------------------
# Runner
# ---------------------------------------------------------------------------

def describe(op):
    return ' '.join('%s=%r' % (k, v) for k, v in op.items() if k not in ('kind',))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--ops', type=int, default=3000)
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--customers', type=int, default=25)
    ap.add_argument('--full-every', type=int, default=250,
                    help='compare every object and run check_invariants() every N ops')
    ap.add_argument('--keep-going', action='store_true',
                    help='after a mismatch, rebuild the model from the database and go on')
    ap.add_argument('--max-failures', type=int, default=None)
    ap.add_argument('--batch', type=float, default=0.08,
                    help='probability that an explicit multi-operation transaction starts')
    ap.add_argument('--db', default=None, help='database to (re)create (default: per seed)')
    ap.add_argument('--keep-db', action='store_true')
    ap.add_argument('--from-version', default=None,
                    help='install this version and ALTER EXTENSION UPDATE before the run')
    ap.add_argument('--quiet', action='store_true')
    ap.add_argument('--failures-dir', default=os.path.join(
        os.environ.get('TMPDIR', '/tmp'), 'invoicing-model-failures'),
        help='where the SQL histories of mismatches are written')
    ap.add_argument('--verbose', '-v', action='count', default=0,
                    help='print outcome counts per operation (twice: with reasons)')
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10 ** 9)
    max_fail = args.max_failures or (50 if args.keep_going else 1)
    print('fuzz: seed %d, %d operations, %d customers (replay: test/model/fuzz.py --seed %d '
          '--ops %d --customers %d)' % (seed, args.ops, args.customers, seed, args.ops,
                                         args.customers), flush=True)
    dbname = args.db or 'inv_fuzz_%d' % seed
    conn = H.fresh_database(dbname, args.from_version)
    rng = random.Random(seed)
    m = M.Model()
    gen = Gen(rng, m, args.customers)
    history = []        # (index, sql, keys, ok)
    failures = []
    signatures = set()
    stats = {}
    outcomes = {}
    last_seq = H.max_event_seq(conn)
    t0 = time.time()
    faildir = args.failures_dir

    def report(i, op, sql, why, lines, keys):
        why_sig = 'full comparison' if why.startswith('full comparison') else why
        sig = (op['kind'] if not why_sig.startswith('full') else '', op['via'] if not
               why_sig.startswith('full') else '', why_sig[:60],
               tuple(sorted({l.split(':')[0].split('[')[0].split('.')[-1] if ':' in l else
                             l[:40] for l in lines})[:5]))
        dup = sig in signatures
        signatures.add(sig)
        failures.append((i, op, why, lines))
        if dup and args.keep_going:
            return
        print('\nMISMATCH at op %d (%s via %s): %s' % (i, op['kind'], op['via'], why))
        print('  sql: %s' % sql)
        for line in lines[:25]:
            print('  - %s' % line)
        os.makedirs(faildir, exist_ok=True)
        path = os.path.join(faildir, 'seed%d-op%d.sql' % (seed, i))
        with open(path, 'w') as f:
            f.write('-- fuzz.py --seed %d: mismatch at op %d (%s via %s): %s\n' % (
                seed, i, op['kind'], op['via'], why))
            for line in lines[:50]:
                f.write('-- %s\n' % line.replace('\n', ' '))
            f.write('CREATE EXTENSION IF NOT EXISTS invoicing;\n')
            for j, s, ks, ok in history:
                if ok and ks & keys:
                    f.write('%s;  -- op %d\n' % (s, j))
            f.write('%s;  -- op %d: the mismatch\n' % (sql, i))
        print('  history of the customers involved: %s' % path, flush=True)

    i = 0
    batch_left = 0          # operations left in the current explicit transaction
    batch_fp = None
    for i in range(1, args.ops + 1):
        if batch_left == 0 and args.batch and rng.random() < args.batch:
            # the next few operations share one transaction (each in a savepoint, so a
            # failed one is rolled back alone); the transaction commits or rolls back
            batch_left = rng.randint(2, 8)
            batch_fp = H.fingerprint(conn) if rng.random() < 0.1 else None
            batch_seq0, batch_events = H.max_event_seq(conn), []
            conn.cursor().execute('BEGIN')
            history.append((i, 'BEGIN', set(), True))
        op = gen.next()
        stats[op['kind']] = stats.get(op['kind'], 0) + 1
        sql = build_sql(conn, op)
        keys = op_keys(m, op)
        if batch_left:
            conn.cursor().execute('SAVEPOINT op')
            out = H.run_sql(conn, sql, savepoint='op')
        else:
            out = H.run_sql(conn, sql)
        m.events = []
        expect = None
        try:
            res = apply_model(m, op, out)
            expect = 'ok'
        except M.Err as e:
            res, expect = e, 'err'
        except M.Amb as a:
            res, expect = a, 'amb'
        keys |= op_keys(m, op)
        history.append((i, sql, keys, out.ok))
        okey = '%s/%s:%s' % (op['kind'], op['via'], 'ok' if out.ok else out.code)
        if args.verbose > 1 and expect in ('err', 'amb'):
            import re
            okey += ' ' + re.sub(r'-?\d+', 'N', res.why)[:50]
        outcomes[okey] = outcomes.get(okey, 0) + 1
        problems, why, resync = [], None, False
        if expect == 'ok' and not out.ok:
            why = 'model expects success (%s), database says %r' % (res, out)
            resync = True
        elif expect == 'err' and out.ok:
            why = 'model expects %s (%s), database succeeded (rowcount %s)' % (
                '/'.join(res.codes), res.why, out.rowcount)
            resync = True
        elif expect == 'err' and out.code not in res.codes:
            why = 'model expects %s (%s), database says %r' % ('/'.join(res.codes), res.why,
                                                               out)
        elif expect == 'amb':
            if out.ok and 'ok' not in res.codes and 'noop' not in res.codes:
                why = 'SPEC leaves open %s (%s), database succeeded' % (res.codes, res.why)
            elif not out.ok and out.code not in res.codes:
                why = 'SPEC leaves open %s (%s), database says %r' % (res.codes, res.why, out)
            if out.ok:
                resync = True
        if why:
            report(i, op, sql, why, [], keys)
        if out.ok and expect == 'ok':
            for cid in customers_of(m, keys):
                problems += H.compare_customer(conn, m, cid)
            problems += check_result(m, op, out, res)
            db_events = H.q(conn, 'SELECT seq, type, object_id, payload FROM invoicing.events '
                                  'WHERE seq > %s ORDER BY seq', (last_seq,))
            problems += check_events(m, m.events, db_events)
            if batch_left:
                batch_events.extend(m.events)
            if op['kind'] == 'preview_cn' and db_events:
                problems.append('preview wrote events')
            c = H.counts(conn)
            if tuple(c[:8]) != model_counts(m):
                problems.append('row counts (customers, invoices, lines, payment_intents, '
                                'payments, credit notes, refunds, transactions): model %r '
                                'database %r' % (model_counts(m), tuple(c[:8])))
            if problems:
                report(i, op, sql, 'state after a successful operation differs', problems,
                       keys)
                resync = True
        if out.ok or resync:
            last_seq = H.max_event_seq(conn)
        if i % args.full_every == 0 or i == args.ops:
            full = H.compare_all(conn, m)
            inv = H.check_invariants(conn)
            full += ['check_invariants(): %r' % (r,) for r in inv]
            full += H.recompute(conn)
            full += H.check_events(conn)
            if full:
                report(i, op, sql, 'full comparison after op %d' % i, full, keys)
                resync = True
            if not args.quiet:
                print('  op %d: %.1fs, %d customers, %d invoices, %d payments, %d credit notes'
                      % (i, time.time() - t0, len(m.customers), len(m.invoices),
                         sum(len(x.payments) for x in m.invoices.values()),
                         sum(len(x.credit_notes) for x in m.invoices.values())), flush=True)
        if failures and (not args.keep_going or len(failures) >= max_fail):
            break
        if batch_left:
            batch_left -= 1
            if batch_left == 0:
                if batch_fp is not None:
                    conn.cursor().execute('ROLLBACK')
                    history.append((i, 'ROLLBACK', set(), True))
                    if H.fingerprint(conn) != batch_fp:
                        report(i, op, 'ROLLBACK', 'ROLLBACK did not restore the rows',
                               [], keys)
                    resync = True
                else:
                    conn.cursor().execute('COMMIT')
                    history.append((i, 'COMMIT', set(), True))
                    # after the commit, the transaction's events in seq order are the
                    # events of its operations, in order (SPEC §6)
                    got = H.q(conn, 'SELECT type, object_id FROM invoicing.events WHERE '
                                    'seq > %s ORDER BY seq', (batch_seq0,))
                    want = [(t, ev_id(o)) for t, o, _ in batch_events]
                    if not resync and [tuple(g) for g in got] != want:
                        report(i, op, 'COMMIT', 'events of the committed transaction',
                               ['model %r' % want, 'database %r' % got], keys)
                    last_seq = H.max_event_seq(conn)
        if resync:
            m = H.load_model(conn)
            gen.m = m
            last_seq = H.max_event_seq(conn)
    if batch_left:
        conn.cursor().execute('COMMIT')
    el = time.time() - t0
    st = H.q(conn, "SELECT status::text, count(*) FROM invoicing.invoices GROUP BY 1 "
                   "ORDER BY 1")
    print('fuzz: seed %d: %d operations in %.1fs; invoices by status %s; ops %s' % (
        seed, i, el, dict(st), dict(sorted(stats.items()))))
    conn.close()
    if not args.keep_db:
        H.drop_database(dbname)
    if args.verbose:
        for k in sorted(outcomes):
            print('   %-40s %d' % (k, outcomes[k]))
    if failures:
        print('fuzz: FAILED: %d mismatch(es), %d distinct (seed %d)' % (
            len(failures), len(signatures), seed))
        return 1
    print('fuzz: ok (seed %d)' % seed)
    return 0


if __name__ == '__main__':
    sys.exit(main())
