#!/usr/bin/env bash
# test/scripts/upgrade.sh: installing fresh and upgrading step by step give the
# same extension, old data survives every update, and the installed library
# serves databases still at an older SQL version.
#
#   PGHOST=... PGPORT=... PGUSER=<superuser> bash test/scripts/upgrade.sh
#
# The versions come from pg_available_extension_versions (cross-checked with
# the sql/ file names), so a new sql/invoicing--OLD--NEW.sql is covered
# without editing this file.  Checks:
#  (b) default_version is the newest version; pg_extension_update_paths()
#      has a path from every version to the newest, and between neighbours.
#  (a) database A: CREATE EXTENSION invoicing (fresh, newest);
#      database B: CREATE EXTENSION invoicing VERSION '<oldest>', then
#      ALTER EXTENSION invoicing UPDATE TO each later version in turn.
#      A and B must have identical
#        - pg_dump --schema-only (the \restrict key line removed),
#        - pg_dump --schema-only --binary-upgrade, which prints every member
#          object of the extension (OIDs, LSNs and xids removed),
#        - the catalog listing of test/scripts/lib/extension_catalog.sql
#          (every pg_depend 'e' member with functiondefs, columns, defaults,
#          constraints, indexes, triggers, privileges, ...).
#  (c) in B, at every version: invoices in every status, payments of both
#      kinds, balance transactions and (0.2 on) credit notes are created
#      (test/scripts/lib/common.bash, fixture_sql); each update leaves every
#      row of every old table as it was (new columns aside) and
#      check_invariants() empty; then work continues on the old objects
#      (fixture_continue_sql: new payments, an old open payment succeeding,
#      an old draft finalized, credit notes with refunds out of old payments)
#      and check_invariants() is empty again.  Also, for each old version,
#      a database made at that version with data jumps to the newest in one
#      ALTER EXTENSION invoicing UPDATE (one transaction), with the same
#      checks and the same catalog as A.  And one psql session that works at
#      every version while another session runs each ALTER EXTENSION UPDATE
#      (the library's cached plans and row layouts must follow the update).
#  (d) the fixture at an old version runs in a database still at that SQL
#      version against the installed (newest) library: the full payment flow
#      (create, finalize, attach, succeed, overpay, void, mark uncollectible,
#      pay_invoice), credit notes where the version has them, and every JSON
#      function, with check_invariants() empty.
# Exit status 0 when every check passes.  Databases: inv_upg_*_<pid>_<n>,
# dropped on exit (INVOICING_KEEP_DBS=1 keeps them).
# ok and fail always return 0, so "cmd && ok ... || fail ..." is an if-then-else.
# shellcheck disable=SC2015
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=test/scripts/lib/common.bash
source "$REPO_ROOT/test/scripts/lib/common.bash"
trap cleanup EXIT
CATALOG_SQL="$REPO_ROOT/test/scripts/lib/extension_catalog.sql"
START=$SECONDS

# ---------------------------------------------------------------------------
section "versions"
mapfile -t VERSIONS < <(q "$ADMIN_DB" "SELECT version FROM pg_available_extension_versions
                                     WHERE name = '$EXT'" | sort -V)
NEWEST="$(q "$ADMIN_DB" "SELECT default_version FROM pg_available_extensions WHERE name = '$EXT'")"
if ((${#VERSIONS[@]} == 0)) || [[ -z "$NEWEST" ]]; then
    fail "extension $EXT is not installed in this cluster"
    finish
fi
OLDEST="${VERSIONS[0]}"
note "installed versions: ${VERSIONS[*]}; oldest $OLDEST; default_version $NEWEST"
if [[ "${VERSIONS[-1]}" == "$NEWEST" ]]; then
    ok "default_version $NEWEST is the newest installed version"
else
    fail "default_version $NEWEST is not the newest installed version (${VERSIONS[-1]})"
fi
# The repository's sql/ files name the same versions as the installed ones.
if [[ -d "$REPO_ROOT/sql" ]]; then
    repo_versions="$(find "$REPO_ROOT/sql" -maxdepth 1 -name "$EXT--*.sql" -printf '%f\n' \
        | sed -E "s/^$EXT--//; s/\.sql$//; s/--/\n/" | sort -uV | tr '\n' ' ')"
    if [[ "$repo_versions" == "${VERSIONS[*]} " ]]; then
        ok "sql/ names the installed versions (${VERSIONS[*]})"
    else
        fail "sql/ names versions '$repo_versions' but the cluster has '${VERSIONS[*]}' (run make install?)"
    fi
fi

# ---------------------------------------------------------------------------
section "(b) update paths"
paths="$(q "$ADMIN_DB" "SELECT source || ' -> ' || target || ': ' || coalesce(path, '(none)')
                      FROM pg_extension_update_paths('$EXT') ORDER BY 1")"
printf '%s\n' "$paths" | sed 's/^/      /'
for v in "${VERSIONS[@]}"; do
    [[ "$v" == "$NEWEST" ]] && continue
    p="$(q "$ADMIN_DB" "SELECT path FROM pg_extension_update_paths('$EXT')
                      WHERE source = '$v' AND target = '$NEWEST'")"
    if [[ -n "$p" ]]; then ok "update path $v -> $NEWEST: $p"
    else fail "no update path from $v to $NEWEST"; fi
done
for ((i = 1; i < ${#VERSIONS[@]}; i++)); do
    p="$(q "$ADMIN_DB" "SELECT path FROM pg_extension_update_paths('$EXT')
                      WHERE source = '${VERSIONS[i-1]}' AND target = '${VERSIONS[i]}'")"
    [[ -n "$p" ]] || fail "no update path from ${VERSIONS[i-1]} to ${VERSIONS[i]}"
done
down="$(q "$ADMIN_DB" "SELECT string_agg(source || ' -> ' || target, ', ')
                     FROM pg_extension_update_paths('$EXT') WHERE path IS NOT NULL
                      AND string_to_array(source, '.')::int[] > string_to_array(target, '.')::int[]" \
        2>/dev/null || true)"
[[ -z "$down" ]] || note "downgrade paths exist: $down"

# tag_of VERSION: a version as an id fragment (0.1 -> v0_1)
tag_of() { echo "v${1//[^a-zA-Z0-9]/_}"; }

# update_checked DB LABEL ALTER-SQL: run the update in a session that
# snapshots every row of the extension's tables before it, and compare after
# it: no row of an existing table may change (columns the update adds aside),
# disappear or appear.
update_checked() {
    local db="$1" label="$2" alter="$3" diffs
    if ! diffs="$(sql_out "$db" "$label" <<SQL
CREATE TEMP TABLE snap AS SELECT * FROM pg_temp.ext_rows();
CREATE TEMP TABLE snap_tables AS
    SELECT c.oid::regclass::text AS tbl FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
     WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e' AND c.relkind IN ('r', 'p')
       AND d.refclassid = 'pg_extension'::regclass
       AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'invoicing');
$alter;
CREATE TEMP TABLE cur AS SELECT * FROM pg_temp.ext_rows();
-- rows of the old tables: compared on the columns both sides have
SELECT format('%s %s: %s', s.tbl, s.key,
              CASE WHEN c.r IS NULL THEN 'row missing after the update'
                   ELSE format('row changed: %s -> %s', s.r, c.r) END)
  FROM snap s LEFT JOIN cur c USING (tbl, key)
 WHERE c.r IS NULL
    OR (SELECT jsonb_object_agg(k, c.r -> k) FROM jsonb_object_keys(s.r) AS k WHERE c.r ? k)
       IS DISTINCT FROM
       (SELECT jsonb_object_agg(k, s.r -> k) FROM jsonb_object_keys(s.r) AS k WHERE c.r ? k)
UNION ALL
SELECT format('%s %s: row appeared in the update', c.tbl, c.key)
  FROM cur c
 WHERE c.tbl IN (SELECT tbl FROM snap_tables)
   AND NOT EXISTS (SELECT FROM snap s WHERE s.tbl = c.tbl AND s.key = c.key);
SQL
)"; then
        fail "$label: the update failed"
        return 1
    fi
    if [[ -n "$diffs" ]]; then
        fail "$label: the update changed existing rows"
        printf '%s\n' "$diffs" | head -n 50 | sed 's/^/      /'
        return 1
    fi
    ok "$label: every existing row unchanged by the update"
}

extversion() { q "$1" "SELECT extversion FROM pg_extension WHERE extname = '$EXT'"; }

# dump_schema DB FILE: pg_dump --schema-only, normalised
dump_schema() {
    "$PG_BINDIR/pg_dump" --schema-only -d "$1" | sed -E '/^\\(un)?restrict /d' >"$2"
}
# dump_binary DB FILE: pg_dump --schema-only --binary-upgrade (every member
# object, as pg_upgrade would recreate it), with OIDs, LSNs, xids and the
# values of the config sequences (data, not schema) removed
dump_binary() {
    "$PG_BINDIR/pg_dump" --schema-only --binary-upgrade -d "$1" | sed -E \
        -e '/^\\(un)?restrict /d' \
        -e '/binary_upgrade_set_next_/s/\(.*\)/(...)/' \
        -e "/binary_upgrade_create_empty_extension/s/'\\{[0-9,]*\\}'/'{oids}'/g" \
        -e "s/relfrozenxid = '[0-9]+', relminmxid = '[0-9]+'/relfrozenxid = 'X', relminmxid = 'X'/" \
        -e "s/WHERE oid = '[0-9]+'/WHERE oid = 'OID'/" \
        -e "s/^(SELECT pg_catalog.setval\('[^']*'), [0-9]+, (true|false)\);/\1, <value>);/" >"$2"
}
catalog() {
    "${PSQL[@]}" -At -d "$1" -f "$CATALOG_SQL" >"$2"
}

# ---------------------------------------------------------------------------
section "(a) database A: fresh CREATE EXTENSION $EXT"
DB_A="$(new_db upg_fresh)"
q "$DB_A" "CREATE EXTENSION $EXT" >/dev/null
v="$(extversion "$DB_A")"
if [[ "$v" == "$NEWEST" ]]; then ok "A: fresh install is at $NEWEST"; else fail "A: fresh install is at $v, not $NEWEST"; fi
fixture_sql "$(tag_of "$NEWEST")" | run_sql "$DB_A" "A: data at $NEWEST" \
    && ok "A: invoices, payments, credit notes at $NEWEST" || fail "A: creating data at $NEWEST failed"
check_invariants "$DB_A" "A at $NEWEST" || true
# The schema comparisons use a second fresh database without data.
DB_A0="$(new_db upg_fresh_nodata)"
q "$DB_A0" "CREATE EXTENSION $EXT" >/dev/null
dump_schema "$DB_A0" "$_T_TMPDIR/A.schema.sql"
dump_binary "$DB_A0" "$_T_TMPDIR/A.binary.sql"
catalog "$DB_A0" "$_T_TMPDIR/A.catalog.txt"
note "A: $(grep -c '^member ' "$_T_TMPDIR/A.catalog.txt") member objects, catalog listing $(wc -l <"$_T_TMPDIR/A.catalog.txt") lines"

# ---------------------------------------------------------------------------
section "(a)(c)(d) database B: $OLDEST, then ALTER EXTENSION UPDATE TO each version"
DB_B="$(new_db upg_steps)"
q "$DB_B" "CREATE EXTENSION $EXT VERSION '$OLDEST'" >/dev/null
TAGS=()
prev="$OLDEST"
for v in "${VERSIONS[@]}"; do
    if [[ "$v" != "$OLDEST" ]]; then
        update_checked "$DB_B" "B: $prev -> $v" "ALTER EXTENSION $EXT UPDATE TO '$v'" || true
        got="$(extversion "$DB_B")"
        [[ "$got" == "$v" ]] || fail "B: extversion is $got after UPDATE TO '$v'"
        check_invariants "$DB_B" "B: after the update to $v" || true
        n=0
        for t in "${TAGS[@]}"; do
            n=$((n + 1))
            fixture_continue_sql "$t" "$(tag_of "$v")" | run_sql "$DB_B" "B at $v: continue $t" \
                && ok "B at $v: new payments and credit notes on the $t objects" \
                || fail "B at $v: work on the $t objects failed"
        done
        check_invariants "$DB_B" "B at $v after work on old objects" || true
    fi
    t="$(tag_of "$v")"
    if [[ "$v" == "$NEWEST" ]]; then what="data at $v"; else what="(d) library serves SQL version $v"; fi
    fixture_sql "$t" | run_sql "$DB_B" "B at $v: $what" \
        && ok "B at $v: $what: payment flow, credit notes where present, JSON" \
        || fail "B at $v: $what: the fixture failed"
    check_invariants "$DB_B" "B at $v after new data" || true
    TAGS+=("$t")
    prev="$v"
done
events="$(q "$DB_B" "SELECT CASE WHEN to_regclass('invoicing.events') IS NULL THEN 'no events table'
                               ELSE (SELECT count(*) || ' events' FROM invoicing.events) END")"
note "B at $NEWEST: $events"

section "(a) A (fresh) and B (upgraded step by step) have the same extension"
dump_schema "$DB_B" "$_T_TMPDIR/B.schema.sql"
dump_binary "$DB_B" "$_T_TMPDIR/B.binary.sql"
catalog "$DB_B" "$_T_TMPDIR/B.catalog.txt"
compare_files "pg_dump --schema-only of A and B" "$_T_TMPDIR/A.schema.sql" "$_T_TMPDIR/B.schema.sql" || true
compare_files "pg_dump --schema-only --binary-upgrade (every member object) of A and B" \
    "$_T_TMPDIR/A.binary.sql" "$_T_TMPDIR/B.binary.sql" || true
compare_files "catalog listing of the extension's objects of A and B" \
    "$_T_TMPDIR/A.catalog.txt" "$_T_TMPDIR/B.catalog.txt" || true

# numbering_lock DB TAG: the mode in which a transaction that wrote an event
# holds the event-numbering lock once its events are numbered (0.3:
# ExclusiveLock, writers commit one at a time; 0.4 on: ShareLock, and
# events_after waits instead).  The transaction is rolled back.
numbering_lock() {
    "${PSQL[@]}" -At -d "$1" <<SQL | tail -n 1
SET client_min_messages = warning;
BEGIN;
SELECT invoicing.create_customer(id => 'cus_lock_$2');
SELECT invoicing.create_invoice('cus_lock_$2', 'usd', id => 'in_lock_$2');
SELECT invoicing.add_invoice_line('in_lock_$2', 100);
SELECT invoicing.finalize_invoice('in_lock_$2') IS NOT NULL;
SET CONSTRAINTS ALL IMMEDIATE;
SELECT coalesce(string_agg(mode, ','), 'none') FROM pg_locks
 WHERE locktype = 'advisory' AND pid = pg_backend_pid();
ROLLBACK;
SQL
}

# ---------------------------------------------------------------------------
section "(c)(d) each old version with data, then one ALTER EXTENSION UPDATE to $NEWEST"
for v in "${VERSIONS[@]}"; do
    [[ "$v" == "$NEWEST" ]] && continue
    db="$(new_db "upg_from_${v//[^a-zA-Z0-9]/_}")"
    t="$(tag_of "$v")"
    q "$db" "CREATE EXTENSION $EXT VERSION '$v'" >/dev/null
    got="$(extversion "$db")"
    [[ "$got" == "$v" ]] || fail "$v: CREATE EXTENSION VERSION '$v' gave $got"
    fixture_sql "$t" | run_sql "$db" "(d) at $v" \
        && ok "database made at $v: (d) payment flow, credit notes where present, JSON" \
        || fail "database made at $v: (d) the fixture failed"
    check_invariants "$db" "database made at $v" || true
    if [[ "$v" == 0.3 ]]; then
        got="$(numbering_lock "$db" before)"
        [[ "$got" == ExclusiveLock ]] \
            && ok "database at 0.3 on the new library: event numbering keeps 0.3's exclusive lock" \
            || fail "database at 0.3 on the new library: numbering lock is '$got', not ExclusiveLock"
    fi
    update_checked "$db" "$v -> $NEWEST in one ALTER EXTENSION UPDATE" "ALTER EXTENSION $EXT UPDATE" || true
    got="$(numbering_lock "$db" after)"
    [[ "$got" == ShareLock ]] \
        && ok "$v -> $NEWEST: event numbering takes the lock shared (events_after waits instead)" \
        || fail "$v -> $NEWEST: numbering lock is '$got', not ShareLock"
    got="$(extversion "$db")"
    [[ "$got" == "$NEWEST" ]] || fail "$v: extversion is $got after ALTER EXTENSION UPDATE"
    check_invariants "$db" "$v -> $NEWEST: after the update" || true
    fixture_continue_sql "$t" "direct" | run_sql "$db" "$v -> $NEWEST: continue" \
        && ok "$v -> $NEWEST: new payments and credit notes on the $v objects" \
        || fail "$v -> $NEWEST: work on the $v objects failed"
    check_invariants "$db" "$v -> $NEWEST: after work on old objects" || true
    catalog "$db" "$_T_TMPDIR/from_$t.catalog.txt"
    compare_files "$v -> $NEWEST: catalog listing same as A" \
        "$_T_TMPDIR/A.catalog.txt" "$_T_TMPDIR/from_$t.catalog.txt" || true
done

# ---------------------------------------------------------------------------
section "(c) one long-lived session works across updates run by another session"
# An application's pooled connection has used the library (cached plans, row
# layouts) before an administrator's ALTER EXTENSION UPDATE in another
# session; it must keep working, on the same connection, after each update.
db="$(new_db upg_session)"
q "$db" "CREATE EXTENSION $EXT VERSION '$OLDEST'" >/dev/null
{
    TAGS=()
    for v in "${VERSIONS[@]}"; do
        if [[ "$v" != "$OLDEST" ]]; then
            # psql's \! runs the update in a separate connection, synchronously
            printf '\\! %q -X -q -v ON_ERROR_STOP=1 -d %q -c %q\n' "$PG_BINDIR/psql" "$db" \
                "ALTER EXTENSION $EXT UPDATE TO '$v'"
            for t in "${TAGS[@]}"; do fixture_continue_sql "$t" "s$(tag_of "$v")"; done
        fi
        fixture_sql "s$(tag_of "$v")"
        TAGS+=("s$(tag_of "$v")")
    done
} | run_sql "$db" "long-lived session" \
    && ok "one session: data at $OLDEST, then work on old and new objects after each update to ${VERSIONS[*]:1}" \
    || fail "one session across updates: failed"
got="$(extversion "$db")"
[[ "$got" == "$NEWEST" ]] || fail "long-lived session: extversion is $got, not $NEWEST"
check_invariants "$db" "long-lived session, at $NEWEST" || true

note "time: $((SECONDS - START)) s"
finish
