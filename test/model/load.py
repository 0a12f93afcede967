"""Concurrent load on a few hot invoices and customers, shared by stress.py and crash.py.

Every client is a thread with its own connection.  Each client transaction does one to
three random operations and, last, a marker: an adjustment of +1 on the client's own
ledger customer whose description is the transaction's tag.  The operations write the
tag too where the schema has room (payment_intents.id, invoice_payments.reference,
credit_notes.memo, customer_balance_transactions.description, invoices.id), so after
the run (or a crash) the ledger tells exactly which transactions committed, and
whether each committed as a whole.
"""

import random
import threading
import time

import psycopg2
import psycopg2.extensions

import harness as H

RETRY = ('40001', '40P01')
# refusals that racing, individually valid operations legitimately get (SPEC §4/§5)
EXPECTED = {
    'attach': ('22023', '55000', '23505'),
    'update_pi': ('55000',),
    'oob': ('22023', '55000'),
    'pay': ('55000',),
    'cn': ('22023', '55000'),
    'void_cn': ('55000',),
    'void': ('55000',),
    'uncollectible': ('55000',),
    'finalize': ('55000', '22023'),
    'adjust': (),
    'new_invoice': (),
    'new_pi': (),
    'read': (),
    'describe': (),
    'marker': (),
    'commit': (),
}
LEVELS = {
    'rc': psycopg2.extensions.ISOLATION_LEVEL_READ_COMMITTED,
    'rr': psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ,
    'ser': psycopg2.extensions.ISOLATION_LEVEL_SERIALIZABLE,
}


class Unexpected(Exception):
    pass


def setup(conn, n_customers=3, n_invoices=4, seed=0):
    """Hot customers with a few open invoices each; returns the shared state."""
    rng = random.Random(seed)
    cur = conn.cursor()
    st = {'customers': [], 'invoices': [], 'pis': [], 'cns': [], 'lock': threading.Lock(),
          'inv_customer': {}, 'pi_customer': {}}
    for c in range(n_customers):
        cid = 'cus_hot%d' % c
        cur.execute('SELECT invoicing.create_customer(%s, %s, %s)', ('h%d@x' % c, 'hot', cid))
        cur.execute("SELECT invoicing.adjust_customer_balance(%s, 'usd', %s, 'setup')",
                    (cid, -rng.randint(0, 3000)))
        st['customers'].append(cid)
    for k in range(n_invoices):
        iid = 'in_hot%d' % k
        cid = st['customers'][k % n_customers]
        cur.execute("SELECT invoicing.create_invoice(%s, 'usd', 'send_invoice', %s)",
                    (cid, iid))
        cur.execute('SELECT invoicing.add_invoice_line(%s, %s, %s)',
                    (iid, rng.randint(20000, 60000), 1))
        cur.execute('SELECT invoicing.finalize_invoice(%s)', (iid,))
        st['invoices'].append(iid)
        st['inv_customer'][iid] = cid
    return st


class Client(threading.Thread):
    def __init__(self, idx, dsn_kw, level, st, deadline, seed, ledger, stop_event=None,
                 tag_prefix='T'):
        super().__init__(name='client%d' % idx, daemon=True)
        self.idx, self.kw, self.level, self.st = idx, dsn_kw, level, st
        self.deadline, self.rng = deadline, random.Random(seed)
        self.ledger = ledger            # dict: committed / failed / in_doubt lists
        self.stop_event = stop_event
        self.ledger_customer = 'cus_ledger%d' % idx
        self.tag_prefix = tag_prefix
        self.n = 0
        self.stats = {}
        self.errors = []                # unexpected errors (fail the run)
        self.conn = None

    # -- helpers ------------------------------------------------------------------
    def pick(self, key):
        with self.st['lock']:
            lst = self.st[key]
            return self.rng.choice(lst) if lst else None

    def remember(self, key, value):
        with self.st['lock']:
            self.st[key].append(value)
            if len(self.st[key]) > 200:
                del self.st[key][:50]

    def one_op(self, cur, tag, pending):
        r = self.rng.random()
        inv = self.pick('invoices')
        cus = self.rng.choice(self.st['customers'])
        self.kind = ('new_pi' if r < 0.16 else 'attach' if r < 0.34 else 'update_pi'
                     if r < 0.50 else 'oob' if r < 0.60 else 'pay' if r < 0.63 else 'cn'
                     if r < 0.76 else 'void_cn' if r < 0.81 else 'adjust' if r < 0.89 else
                     'new_invoice' if r < 0.93 else 'uncollectible' if r < 0.96 else 'void'
                     if r < 0.975 else 'describe' if r < 0.99 else 'read')
        if r < 0.16:
            pid = 'pi_%s' % tag.replace('.', '_') + '_%d' % len(pending)
            amt = self.rng.randint(100, 8000)
            status = self.rng.choice(['requires_payment_method'] * 3 + ['succeeded'])
            cur.execute("SELECT invoicing.create_payment_intent(%s, 'usd', %s, %s, %s)",
                        (cus, amt, status, pid))
            pending.append(('pis', pid))
            with self.st['lock']:
                self.st.setdefault('pi_customer', {})[pid] = cus
            return 'new_pi'
        if r < 0.34:
            pi = self.pick('pis')
            if pi is None:
                return None
            with self.st['lock']:
                pcus = self.st['pi_customer'].get(pi)
                same = [i for i in self.st['invoices'][-40:]
                        if self.st['inv_customer'].get(i) == pcus]
            if same and self.rng.random() < 0.9:
                inv = self.rng.choice(same)
            if inv is None:
                return None
            if self.rng.random() < 0.5:
                cur.execute('SELECT invoicing.attach_payment(%s, %s)', (inv, pi))
            else:
                cur.execute('INSERT INTO invoicing.invoice_payments (invoice, payment_intent) '
                            'VALUES (%s, %s)', (inv, pi))
            return 'attach'
        if r < 0.50:
            pi = self.pick('pis')
            if pi is None:
                return None
            st = self.rng.choice(['succeeded', 'succeeded', 'canceled', 'processing'])
            rec = None
            if st == 'succeeded' and self.rng.random() < 0.3:
                rec = self.rng.randint(1, 100)
            if self.rng.random() < 0.5:
                cur.execute('SELECT invoicing.update_payment_intent(%s, %s, %s)', (pi, st, rec))
            else:
                cur.execute('UPDATE invoicing.payment_intents SET status = %s WHERE id = %s',
                            (st, pi))
            return 'update_pi'
        if r < 0.60:
            if inv is None:
                return None
            amt = self.rng.randint(1, 5000)
            if self.rng.random() < 0.5:
                cur.execute('SELECT invoicing.attach_out_of_band_payment(%s, %s, %s)',
                            (inv, amt, tag))
            else:
                cur.execute("INSERT INTO invoicing.invoice_payments (invoice, payment_type, "
                            "amount_requested, reference) VALUES (%s, 'payment_record', %s, "
                            "%s)", (inv, amt, tag))
            return 'oob'
        if r < 0.63:
            if inv is None:
                return None
            cur.execute('SELECT invoicing.pay_invoice(%s)', (inv,))
            return 'pay'
        if r < 0.76:
            if inv is None:
                return None
            # read the state, then ask for a credit note that fits it (may race)
            cur.execute('SELECT i.amount_remaining, i.total - i.pre_payment_credit_notes_amount '
                        '- i.post_payment_credit_notes_amount, '
                        '(SELECT coalesce(sum(p.amount_paid), 0) FROM invoicing.invoice_payments p '
                        "  WHERE p.invoice = i.id AND p.status = 'paid' "
                        "    AND p.payment_type = 'payment_intent') - "
                        '(SELECT coalesce(sum(r.amount), 0) FROM invoicing.refunds r '
                        '   JOIN invoicing.invoice_payments p ON p.id = r.invoice_payment '
                        '  WHERE p.invoice = i.id) '
                        'FROM invoicing.invoices i WHERE i.id = %s', (inv,))
            row = cur.fetchone()
            if not row:
                return None
            rem, avail, refundable = row
            if avail <= 0:
                return None
            amt = self.rng.randint(1, min(avail, 3000))
            post = max(0, amt - rem)
            refund = self.rng.randint(0, min(post, max(0, refundable)))
            credit = self.rng.randint(0, post - refund)
            oob = post - refund - credit
            if self.rng.random() < 0.5:
                cur.execute('SELECT invoicing.create_credit_note(%s, %s, %s, %s, %s, NULL, %s) '
                            "->> 'id'", (inv, amt, refund, credit, oob, tag))
                cn = cur.fetchone()[0]
            else:
                cur.execute('INSERT INTO invoicing.credit_notes (invoice, amount, refund_amount, '
                            'credit_amount, out_of_band_amount, memo) VALUES (%s, %s, %s, %s, '
                            '%s, %s) RETURNING id', (inv, amt, refund, credit, oob, tag))
                cn = cur.fetchone()[0]
            pending.append(('cns', cn))
            return 'cn'
        if r < 0.81:
            cn = self.pick('cns')
            if cn is None:
                return None
            if self.rng.random() < 0.5:
                cur.execute('SELECT invoicing.void_credit_note(%s)', (cn,))
            else:
                cur.execute("UPDATE invoicing.credit_notes SET status = 'void' WHERE id = %s "
                            "AND status = 'issued'", (cn,))
            return 'void_cn'
        if r < 0.89:
            cur.execute("SELECT invoicing.adjust_customer_balance(%s, 'usd', %s, %s)",
                        (cus, self.rng.randint(-2000, 2000) or 1, tag))
            return 'adjust'
        if r < 0.93:
            # a new hot invoice for a hot customer: finalization applies the balance
            iid = 'in_%s' % tag.replace('.', '_') + '_%d' % len(pending)
            cur.execute("SELECT invoicing.create_invoice(%s, 'usd', 'send_invoice', %s)",
                        (cus, iid))
            cur.execute('SELECT invoicing.add_invoice_line(%s, %s)',
                        (iid, self.rng.randint(5000, 40000)))
            if self.rng.random() < 0.5:
                cur.execute('SELECT invoicing.add_invoice_line(%s, %s)',
                            (iid, -self.rng.randint(1, 3000)))
            if self.rng.random() < 0.5:
                cur.execute('SELECT invoicing.finalize_invoice(%s)', (iid,))
            else:
                cur.execute("UPDATE invoicing.invoices SET status = 'open' WHERE id = %s",
                            (iid,))
            pending.append(('invoices', iid))
            with self.st['lock']:
                self.st['inv_customer'][iid] = cus
            return 'new_invoice'
        if r < 0.96:
            if inv is None:
                return None
            if self.rng.random() < 0.5:
                cur.execute('SELECT invoicing.mark_uncollectible(%s)', (inv,))
            else:
                cur.execute("UPDATE invoicing.invoices SET status = 'uncollectible' "
                            "WHERE id = %s", (inv,))
            return 'uncollectible'
        if r < 0.975:
            if inv is None:
                return None
            cur.execute('SELECT invoicing.void_invoice(%s)', (inv,))
            return 'void'
        if r < 0.99:
            # plain writes of non-derived columns race with the triggers' own updates
            if self.rng.random() < 0.7:
                cur.execute('UPDATE invoicing.invoices SET description = %s WHERE id = %s',
                            (tag, inv or 'in_hot0'))
            else:
                cur.execute('UPDATE invoicing.customers SET name = %s WHERE id = %s',
                            (tag, cus))
            return 'describe'
        cur.execute('SELECT invoicing.invoice_json(%s, %s)', (inv or 'in_hot0', ['payments']))
        return 'read'

    # -- main loop ----------------------------------------------------------------
    def connect(self):
        self.conn = psycopg2.connect(**self.kw)
        self.conn.set_session(isolation_level=LEVELS[self.level], autocommit=False)
        for attempt in range(50):
            cur = self.conn.cursor()
            try:
                cur.execute('SELECT 1 FROM invoicing.customers WHERE id = %s',
                            (self.ledger_customer,))
                if not cur.fetchone():
                    cur.execute('SELECT invoicing.create_customer(NULL, %s, %s)',
                                ('ledger', self.ledger_customer))
                self.conn.commit()
                return
            except psycopg2.Error as e:
                self.conn.rollback()
                if e.pgcode not in RETRY:
                    raise

    def run(self):
        try:
            self.connect()
        except psycopg2.Error as e:
            self.errors.append('connect: %s' % e)
            return
        while time.time() < self.deadline and not (self.stop_event and
                                                    self.stop_event.is_set()):
            self.n += 1
            tag = '%s%d.%d' % (self.tag_prefix, self.idx, self.n)
            for attempt in range(100):
                if self.transaction(tag, attempt):
                    break
                time.sleep(self.rng.random() * 0.002 * min(attempt, 10))
            else:
                self.errors.append('%s: gave up after 100 retries' % tag)
            if self.errors and self.stop_event is None:
                break
        try:
            self.conn.close()
        except Exception:
            pass

    def transaction(self, tag, attempt):
        """One client transaction.  True when done (committed or refused), False to retry."""
        pending, kinds = [], []
        kind = self.kind = None
        try:
            cur = self.conn.cursor()
            for _ in range(self.rng.choice([1, 1, 2, 3])):
                kind = self.one_op(cur, tag, pending)
                if kind:
                    kinds.append(kind)
            self.kind = 'marker'
            cur.execute("SELECT invoicing.adjust_customer_balance(%s, 'usd', 1, %s)",
                        (self.ledger_customer, tag))
            kind = self.kind = 'commit'
            self.ledger['sent'].add(tag)
            self.conn.commit()
        except psycopg2.Error as e:
            if e.pgcode is None or self.conn.closed:
                self.lost_connection(kind, tag, e)
                raise SystemExit
            return self.refused(e, tag, kinds)
        self.ledger['committed'].add(tag)
        for key, val in pending:
            self.remember(key, val)
        for k in kinds:
            self.stats[k + ' ok'] = self.stats.get(k + ' ok', 0) + 1
        return True

    def lost_connection(self, kind, tag, e):
        # connection lost (the crash test): the outcome of a COMMIT in flight is unknown
        if kind == 'commit':
            self.ledger['in_doubt'].add(tag)
        else:
            self.ledger['failed'].add(tag)
        if self.stop_event is None:
            self.errors.append('connection lost: %s' % str(e).strip().splitlines()[0])

    def refused(self, e, tag, kinds):
        kind = self.kind
        code = e.pgcode
        try:
            self.conn.rollback()
        except psycopg2.Error:
            pass
        self.ledger['sent'].discard(tag)
        if code in RETRY:
            self.stats['retry ' + code] = self.stats.get('retry ' + code, 0) + 1
            return False
        if code == 'P0002' and self.level != 'rc':
            # an object another client committed after this snapshot was taken
            self.stats['snapshot P0002'] = self.stats.get('snapshot P0002', 0) + 1
            self.ledger['failed'].add(tag)
            return True
        if kind in EXPECTED and code in EXPECTED[kind]:
            self.stats['%s %s' % (kind, code)] = self.stats.get('%s %s' % (kind, code),
                                                                 0) + 1
            self.ledger['failed'].add(tag)
            return True
        self.errors.append('%s (%s, level %s, ops %s): unexpected %s: %s' % (
            tag, kind, self.level, kinds + [kind], code,
            str(e).strip().splitlines()[0]))
        self.ledger['failed'].add(tag)
        return True


def new_ledger():
    return {'committed': set(), 'failed': set(), 'in_doubt': set(), 'sent': set()}


def check_ledger(conn, ledger):
    """Every committed transaction is there as a whole; nothing else is."""
    out = []
    markers = {r[0] for r in H.q(conn, "SELECT description FROM "
                                       "invoicing.customer_balance_transactions WHERE "
                                       "customer LIKE 'cus_ledger%%' AND type = 'adjustment'")}
    missing = ledger['committed'] - markers
    if missing:
        out.append('%d committed transactions are missing, e.g. %s' % (
            len(missing), sorted(missing)[:5]))
    extra = markers - ledger['committed'] - ledger['in_doubt']
    if extra:
        out.append('%d transactions are present that never committed, e.g. %s' % (
            len(extra), sorted(extra)[:5]))
    # atomicity: every tagged row belongs to a transaction whose marker is there
    tagged = H.q(conn, """
        SELECT 'adjustment', description FROM invoicing.customer_balance_transactions
         WHERE description LIKE 'T%%' AND customer NOT LIKE 'cus_ledger%%'
        UNION ALL SELECT 'payment', reference FROM invoicing.invoice_payments
         WHERE reference LIKE 'T%%'
        UNION ALL SELECT 'credit note', memo FROM invoicing.credit_notes WHERE memo LIKE 'T%%'
        UNION ALL SELECT 'payment_intent', split_part(substr(id, 4), '_', 1) || '.' ||
                         split_part(substr(id, 4), '_', 2)
          FROM invoicing.payment_intents WHERE id LIKE 'pi_T%%'
        UNION ALL SELECT 'invoice', split_part(substr(id, 4), '_', 1) || '.' ||
                         split_part(substr(id, 4), '_', 2)
          FROM invoicing.invoices WHERE id LIKE 'in_T%%'""")
    orphans = [(k, t) for k, t in tagged if t not in markers]
    if orphans:
        out.append('%d rows of transactions without a committed marker, e.g. %s' % (
            len(orphans), orphans[:5]))
    return out


def state_from_db(conn):
    """The shared state for a new round of load on an existing database (crash test)."""
    st = {'customers': [], 'invoices': [], 'pis': [], 'cns': [], 'lock': threading.Lock(),
          'inv_customer': {}, 'pi_customer': {}}
    st['customers'] = [r[0] for r in H.q(conn, "SELECT id FROM invoicing.customers WHERE id "
                                               "LIKE 'cus_hot%%' ORDER BY id")]
    for iid, cus in H.q(conn, "SELECT id, customer FROM invoicing.invoices WHERE customer "
                              "LIKE 'cus_hot%%' AND status IN ('open', 'uncollectible', "
                              "'paid') ORDER BY created DESC LIMIT 100"):
        st['invoices'].append(iid)
        st['inv_customer'][iid] = cus
    for pid, cus in H.q(conn, 'SELECT id, customer FROM invoicing.payment_intents '
                              'ORDER BY created DESC LIMIT 150'):
        st['pis'].append(pid)
        st['pi_customer'][pid] = cus
    st['cns'] = [r[0] for r in H.q(conn, 'SELECT id FROM invoicing.credit_notes '
                                         'ORDER BY seq DESC LIMIT 100')]
    return st
