#!/usr/bin/env bash
# scripts/walkthrough.sh: build and install the extension, start a throwaway
# PostgreSQL 15 cluster and run examples/walkthrough.sql in a fresh database
# `walkthrough`: one invoice paid by two PaymentIntents (a partial payment, then
# the rest), with the invoice JSON printed after every step.
#
#   scripts/walkthrough.sh          run it, then stop the cluster
#   scripts/walkthrough.sh --keep   leave the cluster running and print how to connect
#
# Settings: INVOICING_TMP, INVOICING_PORT (see scripts/lib.sh).
set -euo pipefail

keep=0
for arg in "$@"; do
    case "$arg" in
        --keep) keep=1 ;;
        -h|--help)
            sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
            exit 0 ;;
        *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$INVOICING_REPO_ROOT"

ensure_deps
build_install
if ((keep == 0)); then
    trap stop_cluster EXIT
fi
start_cluster

PGOPTIONS="-c client_min_messages=warning" "$PG_BINDIR/dropdb" --if-exists walkthrough
"$PG_BINDIR/createdb" walkthrough
"$PG_BINDIR/psql" -X -v ON_ERROR_STOP=1 -d walkthrough -f examples/walkthrough.sql

if ((keep == 1)); then
    cat <<MSG

The cluster is still running.  Connect with:

    psql -h $PGHOST -p $PGPORT -U postgres walkthrough

Stop it with:

    $(if [[ "$(id -u)" -eq 0 ]]; then echo "runuser -u $(cluster_os_user) -- "; fi)$PG_BINDIR/pg_ctl -D $INVOICING_DATA stop -m fast

(scripts/test.sh and scripts/walkthrough.sh also replace it on their next run.)
MSG
else
    stop_cluster
    echo
    echo "walkthrough done; cluster stopped (use --keep to leave it running)"
fi
