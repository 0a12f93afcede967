/*-------------------------------------------------------------------------
 *
 * reads.c
 *		Reading the extension's rows by key through an index scan of their
 *		own, without a query: the hot paths (the rows a JSON object is built
 *		from, the check that a customer exists) read one row or one page of
 *		rows, where starting and ending an executor for a cached plan cost
 *		more than the scan itself.
 *
 * A read behaves as the query it replaces (KeyRead.sql) would inside the
 * calling function: it sees the active snapshot, or, after a write of the
 * caller's own, a new snapshot that includes it (what SPI does for a
 * statement that is not read-only); it checks the SELECT privilege; the
 * access methods take the same locks and, under SERIALIZABLE, the same
 * predicate locks.  A table under row-level security for the current user
 * is read through the query itself, so its policies apply; so is one whose
 * index is missing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "invoicing.h"

/*
 * read_by_query
 *		The same read as a query ($1 the key, $2 the limit), for a table
 *		under row-level security.  Caller is connected to SPI.
 */
static int
read_by_query(KeyRead *kr, Datum key, int limit, bool after_write, Row ***rows)
{
	Oid			argtypes[2] = {TEXTOID, INT4OID};
	Datum		values[2];
	int			n;
	int			i;

	inv_prepare(&kr->plan, kr->sql, 2, argtypes);
	values[0] = key;
	values[1] = Int32GetDatum(limit > 0 ? limit : PG_INT32_MAX);
	inv_exec(kr->plan, values, NULL, !after_write, 0);
	n = (int) SPI_processed;
	*rows = palloc(sizeof(Row *) * (n + 1));
	for (i = 0; i < n; i++)
		(*rows)[i] = spi_row(i);
	return n;
}

/*
 * read_by_key
 *		The rows of INV_SCHEMA.<kr->table> whose first column of index
 *		kr->index (NULL: the primary key) equals the text key, in index
 *		order, at most limit of them (0: all).  *rows gets them, copied into
 *		the current memory context; returns how many.  Caller is connected to
 *		SPI (only a table under row-level security needs it).
 */
int
read_by_key(KeyRead *kr, Datum key, int limit, bool after_write, Row ***rows)
{
	Oid			nsp = get_namespace_oid(INV_SCHEMA, false);
	Oid			relid = get_relname_relid(kr->table, nsp);
	Oid			indexid;
	Relation	rel;
	Relation	index;
	ScanKeyData skey;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	TupleDesc	desc;
	Snapshot	snapshot;
	AclResult	aclresult;
	bool		pushed;
	int			n = 0;
	int			allocated = limit > 0 ? limit : 8;

	if (!OidIsValid(relid))
		elog(ERROR, "invoicing: table %s.%s not found", INV_SCHEMA, kr->table);
	rel = table_open(relid, AccessShareLock);

	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_TABLE, RelationGetRelationName(rel));
	indexid = kr->index ? get_relname_relid(kr->index, nsp) : RelationGetPrimaryKeyIndex(rel);

	/*
	 * Row-level security applies to this user, or the index is gone (a
	 * database where someone dropped it): the query does it.
	 */
	if (!OidIsValid(indexid) ||
		check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
	{
		table_close(rel, NoLock);
		return read_by_query(kr, key, limit, after_write, rows);
	}
	index = index_open(indexid, AccessShareLock);
	if (index->rd_rel->relam != BTREE_AM_OID || index->rd_index->indrelid != relid)
	{
		index_close(index, NoLock);
		table_close(rel, NoLock);
		return read_by_query(kr, key, limit, after_write, rows);
	}

	/* the snapshot the query would have had (see _SPI_execute_plan) */
	pushed = after_write || !ActiveSnapshotSet();
	if (pushed)
	{
		if (after_write)
			CommandCounterIncrement();
		PushActiveSnapshot(GetTransactionSnapshot());
		UpdateActiveSnapshotCommandId();
	}
	snapshot = GetActiveSnapshot();

	ScanKeyEntryInitialize(&skey, 0, 1, BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[0], F_TEXTEQ, key);
	scan = index_beginscan(rel, index, snapshot, 1, 0);
	index_rescan(scan, &skey, 1, NULL, 0);
	slot = table_slot_create(rel, NULL);
	desc = CreateTupleDescCopy(RelationGetDescr(rel));
	*rows = palloc(sizeof(Row *) * (allocated + 1));
	while ((limit <= 0 || n < limit) &&
		   index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		Row		   *row = palloc(sizeof(Row));

		if (n == allocated)
		{
			allocated *= 2;
			*rows = repalloc(*rows, sizeof(Row *) * (allocated + 1));
		}
		row_from_tuple(row, desc, ExecCopySlotHeapTuple(slot));
		(*rows)[n++] = row;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	if (pushed)
		PopActiveSnapshot();
	index_close(index, NoLock);
	table_close(rel, NoLock);
	return n;
}

/*
 * read_one
 *		The row of INV_SCHEMA.<kr->table> with primary key id, or NULL.
 */
Row *
read_one(KeyRead *kr, const char *id, bool after_write)
{
	Row		  **rows;

	if (read_by_key(kr, CStringGetTextDatum(id), 1, after_write, &rows) == 0)
		return NULL;
	return rows[0];
}
