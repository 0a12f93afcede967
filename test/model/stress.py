#!/usr/bin/python3
"""Concurrent stress: several clients (threads, one connection each) run random,
individually valid operations on a few hot invoices and customers for a bounded time,
at each isolation level asked for, retrying 40001/40P01.  Any other error than the
refusals racing operations legitimately get (SPEC §5: 22023, 55000, 23505 where the
operation allows them) fails the run.  A monitor checks check_invariants() while the
load runs.  Afterwards: check_invariants() is empty, harness.recompute() (an
independent recomputation from base rows) agrees, the event log matches the state,
and the client-side ledger matches the rows (every committed transaction is there as a
whole, nothing else is).

    /usr/bin/python3 test/model/stress.py [--seconds 8] [--clients 6]
                                          [--levels rc,ser] [--seed S]
"""

import argparse
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as H  # noqa: E402
import load as L  # noqa: E402


def monitor(dbname, stop, problems, counter):
    conn = H.connect(dbname)
    while not stop.is_set():
        rows = H.check_invariants(conn)
        counter[0] += 1
        if rows:
            problems.append('check_invariants() during the load: %r' % (rows[:5],))
            return
        time.sleep(0.2)
    conn.close()


def listener(dbname, stop, got):
    """LISTEN invoicing_events: every committed event is announced once (SPEC §6)."""
    import select
    conn = H.connect(dbname)
    conn.cursor().execute('LISTEN invoicing_events')
    while True:
        if select.select([conn], [], [], 0.2) != ([], [], []):
            conn.poll()
            while conn.notifies:
                got.append(conn.notifies.pop(0).payload)
        elif stop.is_set():
            break
    conn.close()


def consumer(dbname, stop, got):
    """A consumer reading events_after(cursor) while the load runs: it must see every
    event exactly once, in seq order (no event may commit behind the cursor)."""
    conn = H.connect(dbname)
    cursor = 0
    while True:
        done = stop.is_set()
        rows = H.q(conn, 'SELECT seq, id FROM invoicing.events_after(%s, 500)', (cursor,))
        for seq, eid in rows:
            got.append((seq, eid))
            cursor = seq
        if done and not rows:
            break
        if not rows:
            time.sleep(0.05)
    conn.close()


def run_level(level, args, seed):
    dbname = 'inv_stress_%s' % level
    conn = H.fresh_database(dbname)
    st = L.setup(conn, n_customers=args.customers, n_invoices=args.invoices, seed=seed)
    ledger = L.new_ledger()
    deadline = time.time() + args.seconds
    kw = {'dbname': dbname}
    clients = [L.Client(k, kw, level, st, deadline, seed * 100 + k, ledger)
               for k in range(args.clients)]
    stop, problems, counter = threading.Event(), [], [0]
    mon = threading.Thread(target=monitor, args=(dbname, stop, problems, counter), daemon=True)
    mon.start()
    notified, consumed = [], []
    stop_l = threading.Event()
    lis = threading.Thread(target=listener, args=(dbname, stop_l, notified), daemon=True)
    con = threading.Thread(target=consumer, args=(dbname, stop_l, consumed), daemon=True)
    lis.start()
    con.start()
    time.sleep(0.3)
    base_seq = H.max_event_seq(conn)     # events of the setup came before LISTEN
    t0 = time.time()
    for c in clients:
        c.start()
    for c in clients:
        c.join(args.seconds + 120)
        if c.is_alive():
            problems.append('%s did not finish (hung?)' % c.name)
    stop.set()
    mon.join(30)
    time.sleep(0.5)
    stop_l.set()
    lis.join(30)
    con.join(30)
    el = time.time() - t0
    events = H.q(conn, 'SELECT seq, id FROM invoicing.events ORDER BY seq')
    ids = [e[1] for e in events]
    notified_ids = [e[1] for e in events if e[0] > base_seq]
    if sorted(notified) != sorted(notified_ids):
        extra = set(notified) - set(notified_ids)
        missing = set(notified_ids) - set(notified)
        dup = len(notified) - len(set(notified))
        problems.append('NOTIFY: %d events, %d notifications; %d never notified (e.g. %s), '
                        '%d notified but absent (e.g. %s), %d duplicates' % (
                            len(notified_ids), len(notified), len(missing),
                            sorted(missing)[:3], len(extra), sorted(extra)[:3], dup))
    if [e[1] for e in consumed] != ids:
        seen = {e[1] for e in consumed}
        missed = [e for e in events if e[1] not in seen]
        problems.append('events_after consumer: read %d events, table has %d; missed %d '
                        '(e.g. %s); duplicates %d' % (
                            len(consumed), len(ids), len(missed), missed[:3],
                            len(consumed) - len(seen)))
    for c in clients:
        problems.extend(c.errors)
    problems += ['after the load: check_invariants(): %r' % (r,)
                 for r in H.check_invariants(conn)]
    problems += ['after the load: ' + p for p in H.recompute(conn)]
    problems += ['after the load: ' + p for p in H.check_events(conn)]
    problems += ['after the load: ' + p for p in L.check_ledger(conn, ledger)]
    stats = {}
    for c in clients:
        for k, v in c.stats.items():
            stats[k] = stats.get(k, 0) + v
    n_tx = sum(c.n for c in clients)
    summary = H.q(conn, "SELECT (SELECT count(*) FROM invoicing.invoice_payments WHERE "
                        "status = 'paid'), (SELECT count(*) FROM invoicing.credit_notes), "
                        "(SELECT count(*) FROM invoicing.events), (SELECT count(*) FROM "
                        "invoicing.invoices WHERE amount_overpaid > 0)")[0]
    print('stress %s: %d clients, %.1fs, %d transactions (%d committed), %d invariant '
          'checks during the load; paid payments %d, credit notes %d, events %d, '
          'overpaid invoices %d' % (level, args.clients, el, n_tx, len(ledger['committed']),
                                    counter[0], *summary))
    print('  outcomes: %s' % ', '.join('%s %d' % kv for kv in sorted(stats.items())))
    conn.close()
    if not problems and not args.keep_db:
        H.drop_database(dbname)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--seconds', type=float, default=8)
    ap.add_argument('--clients', type=int, default=6)
    ap.add_argument('--customers', type=int, default=3)
    ap.add_argument('--invoices', type=int, default=4)
    ap.add_argument('--levels', default='rc,ser')
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--keep-db', action='store_true')
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10 ** 9)
    print('stress: seed %d (the interleaving is not reproducible; the seed fixes the '
          'operation mix)' % seed, flush=True)
    failed = False
    for level in args.levels.split(','):
        problems = run_level(level, args, seed)
        if problems:
            failed = True
            print('stress %s: FAILED' % level)
            seen = set()
            for p in problems:
                key = p.split(':', 1)[-1][:90]
                if key in seen:
                    continue
                seen.add(key)
                print('  - %s' % p)
                if len(seen) > 30:
                    break
    print('stress: %s' % ('FAILED' if failed else 'ok'))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
