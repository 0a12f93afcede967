#!/usr/bin/env python3
"""bench/perf_summary.py: summarize `perf script` output of backend samples.

    perf script -i perf.data -F ip,sym,dso | bench/perf_summary.py [--top N]

Prints, as shares of all samples:
  1. self time by shared object (postgres, invoicing.so, libc, kernel);
  2. inclusive time of every invoicing.so function (a stack counts once);
  3. inclusive time of selected PostgreSQL functions that tell where the
     extension's time goes (planning, parse analysis, SQL-function calls,
     jsonb input, NOTIFY, ...), each broken down by the nearest invoicing.so
     function above it on the stack ("(no invoicing frame)" when there is
     none, e.g. the SQL wrapper functions and the client's own statement);
  4. the hottest self symbols.
The postgres binary is stripped, so its static functions show as
"[unknown]"; they are skipped when naming callers.
"""
import collections
import re
import sys

TOP = 25
if "--top" in sys.argv:
    TOP = int(sys.argv[sys.argv.index("--top") + 1])

# PostgreSQL functions worth following (exported, so they have names).
WATCH = [
    "SPI_execute_plan", "SPI_execute_plan_with_paramlist", "SPI_prepare",
    "SPI_cursor_open", "GetCachedPlan", "pg_plan_query",
    "pg_analyze_and_rewrite_fixedparams", "pg_analyze_and_rewrite_withcb",
    "parse_analyze_fixedparams", "raw_parser", "fmgr_sql",
    "fmgr_security_definer", "plpgsql_call_handler", "AtEOXact_GUC",
    "NewGUCNestLevel", "set_config_option", "jsonb_in", "pg_parse_json",
    "Async_Notify", "PreCommit_Notify", "AtCommit_Notify",
    "CommitTransactionCommand", "ExecBRInsertTriggers",
    "ExecBRUpdateTriggersNew", "ExecBRUpdateTriggers", "AfterTriggerEndQuery",
    "RI_FKey_check_ins", "heap_copytuple", "CreateTupleDescCopy",
    "getTypeOutputInfo", "getTypeInputInfo", "OidOutputFunctionCall",
    "OidInputFunctionCall", "enum_out", "enum_in", "get_relname_relid",
    "get_namespace_oid", "pg_strong_random", "heap_form_tuple",
    "heap_deform_tuple", "ExecInsert", "heap_update", "heap_insert",
    "XLogInsert", "LockRelationOid", "__GI___kill", "kill", "__send", "__libc_recv",
]

frame_re = re.compile(r"^\s*([0-9a-f]+)\s+(.*?)\s+\(([^)]*)\)\s*$")


def samples(stream):
    stack = []
    for line in stream:
        line = line.rstrip("\n")
        if not line.strip():
            if stack:
                yield stack
                stack = []
            continue
        m = frame_re.match(line)
        if not m:
            continue
        sym = m.group(2)
        dso = m.group(3).rsplit("/", 1)[-1]
        sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
        stack.append((sym, dso))
    if stack:
        yield stack


def main():
    total = 0
    self_dso = collections.Counter()
    self_sym = collections.Counter()
    incl_ext = collections.Counter()
    incl_watch = collections.Counter()
    watch_by_ext = collections.defaultdict(collections.Counter)
    watch = set(WATCH)
    for st in samples(sys.stdin):
        total += 1
        leaf_sym, leaf_dso = st[0]
        self_dso[leaf_dso] += 1
        self_sym["%s (%s)" % (leaf_sym, leaf_dso)] += 1
        seen_ext = set()
        seen_watch = set()
        for i, (sym, dso) in enumerate(st):
            if dso == "invoicing.so" and sym not in seen_ext:
                seen_ext.add(sym)
                incl_ext[sym] += 1
            if sym in watch and sym not in seen_watch:
                seen_watch.add(sym)
                incl_watch[sym] += 1
                owner = "(no invoicing frame)"
                for sym2, dso2 in st[i + 1:]:
                    if dso2 == "invoicing.so":
                        owner = sym2
                        break
                watch_by_ext[sym][owner] += 1
    if total == 0:
        print("no samples")
        return

    def pct(n):
        return "%6.2f%%" % (100.0 * n / total)

    print("samples: %d" % total)
    print("\n-- self time by shared object")
    for dso, n in self_dso.most_common(8):
        print("%s  %s" % (pct(n), dso))
    print("\n-- inclusive time of invoicing.so functions")
    for sym, n in incl_ext.most_common(TOP + 15):
        print("%s  %s" % (pct(n), sym))
    print("\n-- inclusive time of PostgreSQL functions, by nearest invoicing.so caller")
    for sym, n in incl_watch.most_common():
        if 100.0 * n / total < 0.5:
            continue
        print("%s  %s" % (pct(n), sym))
        for owner, m in watch_by_ext[sym].most_common(6):
            if 100.0 * m / total >= 0.3:
                print("          %s  <- %s" % (pct(m), owner))
    print("\n-- hottest self symbols")
    for sym, n in self_sym.most_common(TOP):
        print("%s  %s" % (pct(n), sym))


if __name__ == "__main__":
    main()
