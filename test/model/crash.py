#!/usr/bin/python3
"""Crash recovery, one round (driven by crash.sh):

    crash.py load  --data DIR --ledger FILE --round R [--seconds S] [--clients N]
        runs the concurrent load of load.py against the cluster whose data directory is
        DIR, then kills the postmaster with SIGKILL (and its children, as a machine
        crash would), and appends what the clients saw (committed, in doubt, failed
        transactions) to the ledger FILE (JSON).
    crash.py check --ledger FILE
        after the restart: every transaction a client saw commit is there as a whole,
        nothing else is (in-doubt ones may be either), check_invariants() is empty, the
        independent recomputation agrees, and the event log matches the state.
"""

import argparse
import json
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as H  # noqa: E402
import load as L  # noqa: E402

DB = 'inv_crash'


def children(pid):
    out = []
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open('/proc/%s/stat' % d) as f:
                    fields = f.read().rsplit(')', 1)[1].split()
                if int(fields[1]) == pid:
                    out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return out


def state(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def do_load(args):
    rng = random.Random(args.seed)
    if args.round == 1:
        conn = H.fresh_database(DB)
        st = L.setup(conn, seed=args.seed)
    else:
        conn = H.connect(DB)
        st = L.state_from_db(conn)
    conn.close()
    ledger = L.new_ledger()
    stop = threading.Event()
    level_cycle = args.levels.split(',')
    clients = [L.Client(k, {'dbname': DB}, level_cycle[k % len(level_cycle)], st, time.time() + 3600,
                        args.seed * 100 + k, ledger, stop_event=stop,
                        tag_prefix='T%dc' % args.round)
               for k in range(args.clients)]
    for c in clients:
        c.start()
    time.sleep(args.seconds * (0.6 + 0.8 * rng.random()))
    with open(os.path.join(args.data, 'postmaster.pid')) as f:
        pm = int(f.readline())
    kids = children(pm)
    os.kill(pm, signal.SIGKILL)
    for k in kids:
        try:
            os.kill(k, signal.SIGKILL)
        except ProcessLookupError:
            pass
    stop.set()
    # wait until the killed processes are gone (or zombies nobody reaps, as in a
    # container whose init does not reap): then the old postmaster.pid is stale, as
    # after a machine crash, and is removed so that the restart can proceed
    for _ in range(100):
        alive = [p for p in [pm] + kids if state(p) not in (None, 'Z')]
        if not alive:
            break
        time.sleep(0.1)
    else:
        print('crash: processes %s survived SIGKILL' % alive)
        return 1
    stale = [os.path.join(args.data, 'postmaster.pid')]
    if args.sock:
        stale += [os.path.join(args.sock, f) for f in os.listdir(args.sock)
                  if f.startswith('.s.PGSQL.') and f.endswith('.lock')]
    for path in stale:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    for c in clients:
        c.join(60)
    errors = [e for c in clients for e in c.errors]
    # commits sent whose answer never came
    in_doubt = set(ledger['in_doubt']) | (ledger['sent'] - ledger['committed'])
    old = {'committed': [], 'in_doubt': [], 'errors': []}
    if os.path.exists(args.ledger):
        with open(args.ledger) as f:
            old = json.load(f)
    old['committed'] += sorted(ledger['committed'])
    old['in_doubt'] += sorted(in_doubt)
    old['errors'] += errors
    with open(args.ledger, 'w') as f:
        json.dump(old, f)
    print('crash round %d: killed postmaster %d (and %d children) after load; %d '
          'transactions committed, %d in doubt, %d refused or lost' % (
              args.round, pm, len(kids), len(ledger['committed']), len(in_doubt),
              len(ledger['failed'])), flush=True)
    for e in errors:
        print('  unexpected: %s' % e)
    return 1 if errors else 0


def do_check(args):
    with open(args.ledger) as f:
        led = json.load(f)
    ledger = {'committed': set(led['committed']), 'in_doubt': set(led['in_doubt'])}
    conn = H.connect(DB)
    problems = ['check_invariants(): %r' % (r,) for r in H.check_invariants(conn)]
    problems += H.recompute(conn)
    problems += H.check_events(conn)
    problems += L.check_ledger(conn, ledger)
    markers = H.q(conn, "SELECT count(*) FROM invoicing.customer_balance_transactions "
                        "WHERE customer LIKE 'cus_ledger%%'")[0][0]
    present_doubt = H.q(conn, "SELECT count(*) FROM invoicing.customer_balance_transactions "
                              "WHERE customer LIKE 'cus_ledger%%' AND description = ANY(%s)",
                        (sorted(ledger['in_doubt']),))[0][0]
    print('crash check: %d committed transactions expected, %d markers present (%d of %d '
          'in-doubt commits made it)' % (len(ledger['committed']), markers, present_doubt,
                                        len(ledger['in_doubt'])))
    for p in problems[:30]:
        print('  - %s' % p)
    conn.close()
    if problems:
        print('crash check: FAILED')
        return 1
    print('crash check: ok')
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('phase', choices=['load', 'check'])
    ap.add_argument('--data')
    ap.add_argument('--sock', help='socket directory (its stale lock file is removed)')
    ap.add_argument('--ledger', required=True)
    ap.add_argument('--round', type=int, default=1)
    ap.add_argument('--levels', default='rc,ser,rr',
                    help='isolation levels of the clients, in turn')
    ap.add_argument('--seconds', type=float, default=4)
    ap.add_argument('--clients', type=int, default=6)
    ap.add_argument('--seed', type=int, default=None)
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(10 ** 9)
    if args.phase == 'load':
        print('crash round %d: seed %d' % (args.round, args.seed), flush=True)
        return do_load(args)
    return do_check(args)


if __name__ == '__main__':
    sys.exit(main())
