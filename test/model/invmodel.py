"""An independent, executable model of /work/shared/SPEC.md (the `invoicing` contract).

Written from the SPEC text only, not from the C code.  The model keeps the base facts
(lines, payments, credit notes, balance transactions, statuses) and computes every
derived value the SPEC defines from them.  Each operation either raises `Err` with
the SQLSTATE(s) the SPEC allows for that failure, or applies the change and appends
the events §6 says it emits to `Model.events`.

Where the SPEC orders its checks ("in this order, the first failure wins", rule A)
`Err` carries exactly one SQLSTATE.  Where several checks fail and the SPEC does not
say which wins, `Err` carries every SQLSTATE that applies and any of them is accepted.
`Amb` marks a point the SPEC leaves open: the runner accepts either outcome listed.

Operations never mutate the model before every check has passed, so a raised Err
leaves the model unchanged (SPEC §5: a failed call changes nothing).
"""

INT64_MIN = -(2 ** 63)
INT64_MAX = 2 ** 63 - 1
INT32_MAX = 2 ** 31 - 1

PI_STATUSES = ['requires_payment_method', 'requires_confirmation', 'requires_action',
               'processing', 'requires_capture', 'canceled', 'succeeded']
PI_FINAL = ('succeeded', 'canceled')
INVOICE_STATUSES = ['draft', 'open', 'paid', 'uncollectible', 'void']
CN_REASONS = ['duplicate', 'fraudulent', 'order_change', 'product_unsatisfactory']
COLLECTION_METHODS = ['send_invoice', 'charge_automatically']

# A sample of lower-case ISO 4217 codes (the generator only uses these as "valid"),
# and strings that are not lower-case ISO 4217 codes.
VALID_CURRENCIES = ['usd', 'eur', 'jpy', 'gbp', 'chf']
INVALID_CURRENCIES = ['USD', 'Usd', 'us', 'usdd', '', ' usd', 'zzq', "us'd", 'eu r']

PREFIX = {'customer': 'cus_', 'invoice': 'in_', 'line': 'il_', 'payment_intent': 'pi_',
          'invoice_payment': 'inpay_', 'payment_record': 'prec_', 'credit_note': 'cn_',
          'refund': 're_', 'balance_transaction': 'cbtxn_', 'event': 'evt_'}


class Err(Exception):
    """The operation must fail with one of `codes` (SQLSTATEs)."""

    def __init__(self, codes, why):
        if isinstance(codes, str):
            codes = (codes,)
        self.codes = tuple(codes)
        self.why = why
        super().__init__('%s: %s' % ('/'.join(self.codes), why))


class Amb(Exception):
    """The SPEC leaves this open: any outcome in `codes` is accepted ('ok' = success,
    after which the runner resynchronises the model from the database)."""

    def __init__(self, codes, why):
        self.codes = tuple(codes)
        self.why = why
        super().__init__('ambiguous (%s): %s' % ('/'.join(self.codes), why))


class Errors:
    """Collects failed checks whose order the SPEC does not fix."""

    def __init__(self):
        self.items = []

    def add(self, cond, code, why):
        if cond:
            self.items.append((code, why))

    def raise_if_any(self):
        if self.items:
            codes = []
            for c, _ in self.items:
                for x in ((c,) if isinstance(c, str) else c):
                    if x not in codes:
                        codes.append(x)
            raise Err(codes, '; '.join(w for _, w in self.items))


def fits(v):
    return v is None or INT64_MIN <= v <= INT64_MAX


class Line:
    def __init__(self, lid, invoice, quantity, unit_amount, description=None):
        self.id, self.invoice = lid, invoice
        self.quantity, self.unit_amount, self.description = quantity, unit_amount, description

    @property
    def amount(self):
        return self.quantity * self.unit_amount


class Invoice:
    def __init__(self, iid, customer, currency, collection_method):
        self.id, self.customer, self.currency = iid, customer, currency
        self.collection_method = collection_method
        self.status = 'draft'
        self.lines = []            # Line, insertion order
        self.number = None         # learnt from the database at finalization
        self.starting_balance = 0
        self.ending_balance = None
        self.applied = 0           # amount of the applied_to_invoice transaction (0: none)
        self.payments = []         # Payment, insertion order
        self.credit_notes = []     # CreditNote, insertion order
        self.finalized = False
        self.paid_at = False
        self.voided_at = False
        self.marked_uncollectible_at = False
        self.description = None

    # ---- derived values (SPEC §4 invariants 1-4) ----
    @property
    def total(self):
        return sum(l.amount for l in self.lines)

    @property
    def PAID(self):
        return sum(p.amount_paid for p in self.payments if p.status == 'paid')

    @property
    def PRE(self):
        return sum(c.pre for c in self.credit_notes if c.status == 'issued')

    @property
    def POST(self):
        return sum(c.post for c in self.credit_notes if c.status == 'issued')

    @property
    def issued_amount(self):
        return sum(c.amount for c in self.credit_notes if c.status == 'issued')

    @property
    def amount_due(self):
        if self.status == 'draft':
            return self.total
        return max(0, self.total + self.starting_balance) - self.PRE

    @property
    def amount_paid(self):
        return 0 if self.status == 'draft' else self.PAID

    @property
    def amount_remaining(self):
        if self.status == 'draft':
            return max(0, self.total)
        return max(0, self.amount_due - self.amount_paid)

    @property
    def amount_overpaid(self):
        if self.status == 'draft':
            return 0
        return max(0, self.amount_paid - self.amount_due)

    @property
    def refundable(self):
        return sum(p.amount_paid - p.refunded for p in self.payments
                   if p.status == 'paid' and p.type == 'payment_intent')

    def visible(self):
        """The invoice JSON's money and state fields (§6), for invoice.updated."""
        return {
            'amount_due': self.amount_due, 'amount_paid': self.amount_paid,
            'amount_remaining': self.amount_remaining,
            'amount_overpaid': self.amount_overpaid,
            'ending_balance': self.ending_balance, 'number': self.number,
            'post_payment_credit_notes_amount': self.POST,
            'pre_payment_credit_notes_amount': self.PRE,
            'starting_balance': self.starting_balance, 'status': self.status,
            'subtotal': self.total, 'total': self.total,
            'description': self.description,
            'status_transitions': (self.finalized, self.paid_at, self.voided_at,
                                   self.marked_uncollectible_at),
        }


class PaymentIntent:
    def __init__(self, pid, customer, currency, amount, status, amount_received):
        self.id, self.customer, self.currency = pid, customer, currency
        self.amount, self.status, self.amount_received = amount, status, amount_received
        self.invoice = None
        self.payment = None


class Payment:
    def __init__(self, invoice, ptype, pi, amount_requested, reference=None):
        self.id = None             # bound after the database created it
        self.invoice, self.type, self.pi = invoice, ptype, pi
        self.amount_requested = amount_requested
        self.reference = reference
        self.status = 'open'
        self.amount_paid = None
        self.refunded = 0


class CreditNote:
    def __init__(self, invoice, amount, refund, credit, oob, reason, memo):
        self.id = None
        self.invoice, self.amount = invoice, amount
        self.refund, self.credit, self.oob = refund, credit, oob
        self.reason, self.memo = reason, memo
        self.status = 'issued'
        self.voided_at = False
        self.seqno = 0
        self.pre = self.post = 0
        self.number = None
        self.refunds = []          # [Payment, amount] in creation order
        self.txn = None            # Txn for credit_amount

    @property
    def type(self):
        if self.post == 0:
            return 'pre_payment'
        if self.pre == 0:
            return 'post_payment'
        return 'mixed'


class Txn:
    def __init__(self, customer, currency, amount, ttype, invoice=None, credit_note=None,
                 description=None):
        self.customer, self.currency, self.amount, self.type = customer, currency, amount, ttype
        self.invoice, self.credit_note, self.description = invoice, credit_note, description
        self.ending_balance = None


class Customer:
    def __init__(self, cid, email=None, name=None):
        self.id, self.email, self.name = cid, email, name
        self.txns = []             # Txn, insertion order (all currencies)

    def balance(self, currency):
        return sum(t.amount for t in self.txns if t.currency == currency)

    def currencies(self):
        out = []
        for t in self.txns:
            if t.currency not in out:
                out.append(t.currency)
        return out


def null_errs(errs, **args):
    for name, v in args.items():
        errs.add(v is None, '22004', 'argument "%s" is null' % name)


class Model:
    def __init__(self):
        self.customers = {}
        self.invoices = {}
        self.pis = {}
        self.lines = {}
        self.events = []           # (type, object_id, extra) appended by operations

    # ------------------------------------------------------------------ helpers
    def _id_check(self, errs, kind, given, table):
        if given is None:
            return
        errs.add(not given.startswith(PREFIX[kind]) or given == PREFIX[kind], '22023',
                 'id %r lacks prefix %s' % (given, PREFIX[kind]))
        errs.add(given in table, '23505', 'id %r exists' % given)

    def _currency_errs(self, errs, cur):
        if cur is not None:
            if cur in VALID_CURRENCIES:
                return
            if cur in INVALID_CURRENCIES:
                errs.add(True, '22023', 'invalid currency %r' % cur)
                return
            raise Amb(('22023', 'ok'), 'currency %r not in the model\'s lists' % cur)

    def _add_txn(self, cus, currency, amount, ttype, invoice=None, credit_note=None,
                 description=None):
        c = self.customers[cus]
        new = c.balance(currency) + amount
        if not fits(new):
            raise Err('22003', 'balance overflow')
        t = Txn(cus, currency, amount, ttype, invoice, credit_note, description)
        t.ending_balance = new
        c.txns.append(t)
        return t

    def _invoice_events(self, inv, before, amount_paid_grew, pay_or_obj_events):
        """Events of one change to an invoice (§6): object events, invoice.updated when
        the JSON changed, then status events in the SPEC's order."""
        ev = list(pay_or_obj_events)
        after = inv.visible()
        changed = {k for k in after if after[k] != before[k]}
        if changed:
            ev.append(('invoice.updated', inv.id, {'before': before, 'changed': changed}))
        became_paid = before['status'] != 'paid' and inv.status == 'paid'
        if became_paid:
            ev.append(('invoice.paid', inv.id, None))
        if became_paid and amount_paid_grew:
            ev.append(('invoice.payment_succeeded', inv.id, None))
        if after['amount_overpaid'] > before['amount_overpaid']:
            ev.append(('invoice.overpaid', inv.id, None))
        if before['status'] != 'void' and inv.status == 'void':
            ev.append(('invoice.voided', inv.id, None))
        if before['status'] != 'uncollectible' and inv.status == 'uncollectible':
            ev.append(('invoice.marked_uncollectible', inv.id, None))
        self.events.extend(ev)

    def _settle(self, inv, before):
        """After money moved: paid when nothing remains; overpayment growth credited."""
        if inv.status in ('open', 'uncollectible') and inv.amount_remaining == 0:
            inv.status = 'paid'
            inv.paid_at = True
        growth = inv.amount_overpaid - before['amount_overpaid']
        if growth > 0:
            self._add_txn(inv.customer, inv.currency, -growth, 'invoice_overpaid', invoice=inv.id)

    def _check_money(self, inv, extra_paid=0, extra_pre=0):
        """Overflow of the sums the SPEC defines (22003)."""
        if inv.status == 'draft':
            return
        PAID = inv.PAID + extra_paid
        PRE = inv.PRE + extra_pre
        if not fits(PAID) or not fits(PRE):
            raise Err('22003', 'sum overflow')
        due = max(0, inv.total + inv.starting_balance) - PRE
        if not fits(due) or not fits(due - PAID) or not fits(PAID - due):
            raise Err('22003', 'amount overflow')

    def _credit_payment(self, pay, amount):
        """Rule P / O: a payment becomes paid; the invoice follows (invariant 3)."""
        inv = self.invoices[pay.invoice]
        self._check_money(inv, extra_paid=amount)
        before = inv.visible()
        pay.status = 'paid'
        pay.amount_paid = amount
        self._settle(inv, before)
        self._invoice_events(inv, before, True, [('invoice_payment.paid', pay, None)])

    # ------------------------------------------------------------------ customers
    def create_customer(self, email=None, name=None, cid=None, new_id=None):
        errs = Errors()
        self._id_check(errs, 'customer', cid, self.customers)
        errs.raise_if_any()
        cid = cid or new_id
        self.customers[cid] = Customer(cid, email, name)
        return cid

    def adjust_balance(self, customer, currency, amount, description=None, fn=True):
        errs = Errors()
        null_errs(errs, customer=customer, currency=currency, amount=amount)
        if not fn:
            # DML: NOT NULL columns
            errs = Errors()
            errs.add(customer is None or currency is None or amount is None, '23502', 'null')
        errs.add(customer is not None and customer not in self.customers, 'P0002',
                 'no such customer')
        self._currency_errs(errs, currency)
        errs.raise_if_any()
        if amount == 0:
            raise Amb(('ok', '22023'), 'adjustment of 0')
        self._add_txn(customer, currency, amount, 'adjustment', description=description)

    # ------------------------------------------------------------------ invoices
    def create_invoice(self, customer, currency, collection_method='send_invoice', iid=None,
                       fn=True, new_id=None):
        errs = Errors()
        if fn:
            null_errs(errs, customer=customer, currency=currency,
                      collection_method=collection_method)
        else:
            errs.add(customer is None or currency is None, '23502', 'null')
        self._id_check(errs, 'invoice', iid, self.invoices)
        errs.add(customer is not None and customer not in self.customers, 'P0002',
                 'no such customer')
        self._currency_errs(errs, currency)
        errs.add(collection_method is not None and collection_method not in COLLECTION_METHODS,
                 '22023' if fn else ('22023', '22P02'), 'bad collection_method')
        errs.raise_if_any()
        iid = iid or new_id
        self.invoices[iid] = Invoice(iid, customer, currency, collection_method)
        return iid

    def _need_invoice(self, errs, iid):
        if iid is not None and iid not in self.invoices:
            errs.add(True, 'P0002', 'no such invoice %r' % iid)
            errs.raise_if_any()
        return self.invoices.get(iid)

    def add_line(self, invoice, unit_amount, quantity=1, description=None, lid=None, fn=True,
                 new_id=None):
        errs = Errors()
        if fn:
            null_errs(errs, invoice=invoice, unit_amount=unit_amount, quantity=quantity)
        else:
            errs.add(invoice is None or unit_amount is None or quantity is None, '23502',
                     'null')
        if lid is not None:
            self._id_check(errs, 'line', lid, self.lines)
        if errs.items:
            errs.raise_if_any()
        inv = self._need_invoice(errs, invoice)
        errs.add(inv.status != 'draft', '55000', 'invoice is %s' % inv.status)
        if quantity is not None and quantity < 0:
            raise Amb(('ok', '22023'), 'negative quantity')
        amount = quantity * unit_amount
        errs.add(not fits(amount) or not fits(inv.total + amount), '22003', 'overflow')
        errs.raise_if_any()
        lid = lid or new_id
        line = Line(lid, invoice, quantity, unit_amount, description)
        inv.lines.append(line)
        self.lines[lid] = line
        return lid

    def update_line(self, lid, unit_amount, quantity):
        errs = Errors()
        line = self.lines[lid]
        inv = self.invoices[line.invoice]
        errs.add(inv.status != 'draft', '55000', 'invoice is %s' % inv.status)
        amount = quantity * unit_amount
        errs.add(not fits(amount) or not fits(inv.total - line.amount + amount), '22003',
                 'overflow')
        errs.raise_if_any()
        line.unit_amount, line.quantity = unit_amount, quantity

    def delete_line(self, lid):
        line = self.lines[lid]
        inv = self.invoices[line.invoice]
        if inv.status != 'draft':
            raise Err('55000', 'invoice is %s' % inv.status)
        errs = Errors()
        errs.add(not fits(inv.total - line.amount), '22003', 'overflow')
        errs.raise_if_any()
        inv.lines.remove(line)
        del self.lines[lid]

    def delete_invoice(self, iid):
        inv = self.invoices[iid]
        if inv.status != 'draft':
            raise Err('55000', 'invoice is %s' % inv.status)
        for l in inv.lines:
            del self.lines[l.id]
        del self.invoices[iid]

    def finalize(self, invoice, fn=True):
        errs = Errors()
        null_errs(errs, invoice=invoice)
        errs.raise_if_any()
        inv = self._need_invoice(errs, invoice)
        if not fn and inv.status == 'open':
            return 'noop'
        if inv.status != 'draft':
            raise Err('55000', 'finalize a %s invoice' % inv.status)
        if inv.total < 0:
            raise Err('22023', 'total %d < 0' % inv.total)
        cus = self.customers[inv.customer]
        B = cus.balance(inv.currency)
        if not fits(inv.total + B):
            raise Err('22003', 'total + balance overflow')
        inv.status = 'open'
        inv.finalized = True
        inv.starting_balance = B
        inv.ending_balance = min(0, inv.total + B)
        if inv.ending_balance != B:
            inv.applied = inv.ending_balance - B
            self._add_txn(inv.customer, inv.currency, inv.applied, 'applied_to_invoice',
                          invoice=inv.id)
        self.events.append(('invoice.finalized', inv.id, None))
        if inv.amount_due == 0:
            inv.status = 'paid'
            inv.paid_at = True
            self.events.append(('invoice.paid', inv.id, None))
        return 'finalized'

    def void_invoice(self, invoice, fn=True):
        errs = Errors()
        null_errs(errs, invoice=invoice)
        errs.raise_if_any()
        inv = self._need_invoice(errs, invoice)
        if not fn and inv.status == 'void':
            return 'noop'
        if inv.status not in ('open', 'uncollectible'):
            raise Err('55000', 'void a %s invoice' % inv.status)
        if any(p.status in ('open', 'paid') for p in inv.payments):
            raise Err('55000', 'void with open or paid payments')
        before = inv.visible()
        if inv.applied:
            self._add_txn(inv.customer, inv.currency, -inv.applied, 'unapplied_from_invoice',
                          invoice=inv.id)
        inv.status = 'void'
        inv.voided_at = True
        self._invoice_events(inv, before, False, [])

    def mark_uncollectible(self, invoice, fn=True):
        errs = Errors()
        null_errs(errs, invoice=invoice)
        errs.raise_if_any()
        inv = self._need_invoice(errs, invoice)
        if not fn and inv.status == 'uncollectible':
            return 'noop'
        if inv.status != 'open':
            raise Err('55000', 'mark uncollectible a %s invoice' % inv.status)
        if any(p.status == 'open' for p in inv.payments):
            raise Err('55000', 'open payments')
        before = inv.visible()
        inv.status = 'uncollectible'
        inv.marked_uncollectible_at = True
        self._invoice_events(inv, before, False, [])

    def set_description(self, invoice, description):
        """DML UPDATE invoices SET description: a plain column; invoice.updated when the
        JSON changed (never for a draft)."""
        inv = self.invoices[invoice]
        before = inv.visible()
        inv.description = description
        if inv.status != 'draft':
            self._invoice_events(inv, before, False, [])

    def set_invoice_status(self, invoice, status):
        """DML UPDATE invoices SET status = ...: the equivalent operation, or a refusal."""
        inv = self.invoices[invoice]
        if status == inv.status:
            return 'noop'
        if status == 'open':
            return self.finalize(invoice, fn=False)
        if status == 'void':
            return self.void_invoice(invoice, fn=False)
        if status == 'uncollectible':
            return self.mark_uncollectible(invoice, fn=False)
        if status == 'paid':
            raise Err('23514', 'setting an invoice paid is a write to a derived column')
        raise Err('55000', '%s -> %s' % (inv.status, status))

    # ------------------------------------------------------------------ payment intents
    def create_pi(self, customer, currency, amount, status='requires_payment_method', pid=None,
                  amount_received=None, fn=True, new_id=None):
        errs = Errors()
        if fn:
            null_errs(errs, currency=currency, amount=amount, status=status)
        else:
            errs.add(currency is None or amount is None, '23502', 'null')
        self._id_check(errs, 'payment_intent', pid, self.pis)
        errs.add(customer is not None and customer not in self.customers, 'P0002',
                 'no such customer')
        self._currency_errs(errs, currency)
        errs.add(amount is not None and amount <= 0, '22023', 'amount %s <= 0' % amount)
        errs.add(status is not None and status not in PI_STATUSES,
                 '22023' if fn else ('22023', '22P02'), 'bad status')
        if amount_received is not None and amount is not None:
            errs.add(amount_received < 0 or amount_received > amount, '22023',
                     'amount_received %s outside [0, amount]' % amount_received)
        errs.raise_if_any()
        if amount_received and status != 'succeeded':
            raise Amb(('ok', '22023'), 'amount_received on a %s PaymentIntent' % status)
        pid = pid or new_id
        rec = 0
        if status == 'succeeded':
            rec = amount_received if amount_received else amount
        self.pis[pid] = PaymentIntent(pid, customer, currency, amount, status, rec)
        return pid

    def update_pi(self, pi, status, amount_received=None, fn=True):
        errs = Errors()
        null_errs(errs, payment_intent=pi, status=status)
        errs.add(status is not None and status not in PI_STATUSES, '22023', 'bad status')
        errs.raise_if_any()
        if pi not in self.pis:
            raise Err('P0002', 'no such payment_intent')
        p = self.pis[pi]
        if p.status in PI_FINAL:
            if status == p.status and (amount_received is None
                                       or amount_received == p.amount_received):
                return 'noop'
            if status == p.status == 'succeeded' and amount_received == 0:
                raise Amb(('ok', '55000'), 'redelivery of succeeded with amount_received 0')
            raise Err('55000', 'change a final PaymentIntent (%s)' % p.status)
        if amount_received is not None:
            errs.add(amount_received < 0 or amount_received > p.amount, '22023',
                     'amount_received %d outside [0, %d]' % (amount_received, p.amount))
            errs.raise_if_any()
            if status != 'succeeded' and amount_received != p.amount_received:
                raise Amb(('ok', '22023'), 'amount_received with status %s' % status)
        if status == p.status:
            if fn:
                raise Amb(('ok', '55000'), 'same non-final status reported again')
            return 'noop'
        if status == 'succeeded':
            rec = amount_received if amount_received else p.amount
            pay = p.payment
            if pay is not None and pay.status == 'open':
                self._check_money(self.invoices[pay.invoice],
                                  extra_paid=min(pay.amount_requested, rec))
            p.status = 'succeeded'
            p.amount_received = rec
            if pay is not None and pay.status == 'open':
                self._credit_payment(pay, min(pay.amount_requested, rec))
            return 'succeeded'
        if status == 'canceled':
            p.status = 'canceled'
            pay = p.payment
            if pay is not None and pay.status == 'open':
                pay.status = 'canceled'
            return 'canceled'
        p.status = status
        return 'status'

    # ------------------------------------------------------------------ rule A
    def attach(self, invoice, pi, fn=True):
        if invoice is None or pi is None:
            raise Err('22004', 'null argument')
        if invoice not in self.invoices or pi not in self.pis:
            raise Err('P0002', 'no such invoice or payment_intent')
        inv, p = self.invoices[invoice], self.pis[pi]
        if p.invoice == invoice:
            if fn:
                return 'noop'
            raise Amb(('noop', '23505'), 'DML re-attach to the same invoice')
        if p.invoice is not None:
            raise Err('23505', 'attached to another invoice')
        if inv.status not in ('open', 'uncollectible'):
            raise Err('55000', 'invoice is %s' % inv.status)
        if p.status == 'canceled':
            raise Err('55000', 'PaymentIntent canceled')
        if p.currency != inv.currency or p.customer is None or p.customer != inv.customer:
            raise Err('22023', 'currency or customer mismatch')
        if p.amount > inv.amount_remaining:
            raise Err('22023', 'amount %d > amount_remaining %d' % (p.amount,
                                                                  inv.amount_remaining))
        if p.status == 'succeeded':
            self._check_money(inv, extra_paid=min(p.amount, p.amount_received))
        pay = Payment(invoice, 'payment_intent', pi, p.amount)
        inv.payments.append(pay)
        p.invoice, p.payment = invoice, pay
        if p.status == 'succeeded':
            self._credit_payment(pay, min(pay.amount_requested, p.amount_received))
        return pay

    # ------------------------------------------------------------------ rule O
    def attach_oob(self, invoice, amount, reference=None, fn=True):
        errs = Errors()
        if fn:
            null_errs(errs, invoice=invoice, amount=amount)
        else:
            errs.add(invoice is None, '23502', 'null invoice')
            errs.add(amount is None, '22004', 'null amount')
            if errs.items:
                raise Err(('23502', '22004', '22023'), 'null in DML')
        errs.raise_if_any()
        inv = self._need_invoice(errs, invoice)
        errs.add(inv.status not in ('open', 'uncollectible'), '55000', 'invoice is %s' %
                 inv.status)
        errs.add(amount <= 0 or amount > inv.amount_remaining, '22023',
                 'amount %d outside (0, %d]' % (amount, inv.amount_remaining))
        errs.raise_if_any()
        pay = Payment(invoice, 'payment_record', None, amount, reference)
        inv.payments.append(pay)
        self._credit_payment(pay, amount)
        return pay

    def pay_invoice(self, invoice):
        errs = Errors()
        null_errs(errs, invoice=invoice)
        errs.raise_if_any()
        inv = self._need_invoice(errs, invoice)
        if inv.status not in ('open', 'uncollectible') or inv.amount_remaining <= 0:
            raise Err('55000', 'pay a %s invoice with %d remaining' % (inv.status,
                                                                      inv.amount_remaining))
        pay = Payment(invoice, 'payment_record', None, inv.amount_remaining)
        inv.payments.append(pay)
        self._credit_payment(pay, inv.amount_remaining)
        return pay

    # ------------------------------------------------------------------ rule C
    def _cn_plan(self, invoice, amount, refund, credit, oob, reason, fn=True):
        errs = Errors()
        if fn:
            null_errs(errs, invoice=invoice, amount=amount, refund_amount=refund,
                      credit_amount=credit, out_of_band_amount=oob)
        else:
            errs.add(invoice is None or amount is None or refund is None or credit is None
                     or oob is None, '23502', 'null')
        errs.add(reason is not None and reason not in CN_REASONS,
                 '22023' if fn else ('22023', '22P02'), 'bad reason')
        if any(c in ('22004', '23502') for c, _ in errs.items):
            errs.raise_if_any()
        inv = self._need_invoice(errs, invoice)
        errs.add(inv.status not in ('open', 'paid', 'uncollectible'), '55000',
                 'invoice is %s' % inv.status)
        errs.add(amount <= 0, '22023', 'amount <= 0')
        errs.add(refund < 0 or credit < 0 or oob < 0, '22023', 'negative disposition')
        errs.add(inv.issued_amount + amount > inv.total, '22023',
                 'issued %d + %d > total %d' % (inv.issued_amount, amount, inv.total))
        pre = min(amount, inv.amount_remaining) if amount > 0 else 0
        post = amount - pre
        disp = refund + credit + oob
        if disp != post:
            errs.add(True, '22023', 'dispositions %d != post %d' % (disp, post))
            if not fits(disp):
                errs.add(True, '22003', 'disposition sum overflows')
        errs.add(refund > inv.refundable, '22023', 'refund %d > refundable %d' %
                 (refund, inv.refundable))
        errs.raise_if_any()
        if inv.status != 'draft':
            self._check_money(inv, extra_pre=pre)
        if credit:
            nb = self.customers[inv.customer].balance(inv.currency) - credit
            if not fits(nb):
                raise Err('22003', 'balance overflow')
        # refunds: newest paid PaymentIntent payment first
        plan, left = [], refund
        for pay in reversed(inv.payments):
            if left == 0:
                break
            if pay.status == 'paid' and pay.type == 'payment_intent':
                take = min(left, pay.amount_paid - pay.refunded)
                if take > 0:
                    plan.append((pay, take))
                    left -= take
        assert left == 0
        return inv, pre, post, plan

    def create_cn(self, invoice, amount, refund=0, credit=0, oob=0, reason=None, memo=None,
                  fn=True):
        inv, pre, post, plan = self._cn_plan(invoice, amount, refund, credit, oob, reason, fn)
        before = inv.visible()
        cn = CreditNote(invoice, amount, refund, credit, oob, reason, memo)
        cn.pre, cn.post = pre, post
        cn.seqno = len(inv.credit_notes) + 1
        cn.number = None if inv.number is None else '%s-CN-%02d' % (inv.number, cn.seqno)
        for pay, take in plan:
            pay.refunded += take
            cn.refunds.append([pay, take])
        inv.credit_notes.append(cn)
        if credit:
            # (the SPEC does not say; Stripe links such a transaction to the invoice too)
            cn.txn = self._add_txn(inv.customer, inv.currency, -credit, 'credit_note',
                                   invoice=inv.id, credit_note=cn)
        self._settle(inv, before)
        self._invoice_events(inv, before, False, [('credit_note.created', cn, None)])
        return cn

    def preview_cn(self, invoice, amount, refund=0, credit=0, oob=0, reason=None, memo=None):
        inv, pre, post, plan = self._cn_plan(invoice, amount, refund, credit, oob, reason)
        return {'amount': amount, 'pre_payment_amount': pre, 'post_payment_amount': post,
                'refund_amount': refund, 'credit_amount': credit, 'out_of_band_amount': oob,
                'type': 'pre_payment' if post == 0 else ('post_payment' if pre == 0
                                                         else 'mixed'),
                'refunds': [take for _, take in plan]}

    def void_cn(self, cn, fn=True):
        if cn is None:
            raise Err('22004', 'null credit note')
        inv = self.invoices[cn.invoice]
        if cn.status == 'void':
            if fn:
                raise Err('55000', 'already void')
            return 'noop'
        if inv.status != 'open':
            raise Err('55000', 'invoice is %s' % inv.status)
        self._check_money(inv, extra_pre=-cn.pre)
        before = inv.visible()
        cn.status = 'void'
        cn.voided_at = True
        self._invoice_events(inv, before, False, [('credit_note.voided', cn, None)])
