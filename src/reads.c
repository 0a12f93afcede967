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
 * statement that is not read-only); the access methods take the same locks
 * and, under SERIALIZABLE, the same predicate locks.  The read goes through
 * the query itself when the caller lacks SELECT on the whole table (the
 * executor then applies column privileges), when row-level security applies
 * to the caller (so its policies hide rows), and when the index is missing
 * or not usable as the query's plan would use it.
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
#include "catalog/pg_index.h"
#include "catalog/pg_opfamily.h"
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
 *		The same read as a query ($1 the key, $2 the limit), for the cases
 *		the index scan leaves to the executor.  Caller is connected to SPI.
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
 * index_usable
 *		The index can serve the read as the query would: a valid, live btree
 *		index of the table, maintained by inserts, not partial, whose first
 *		column is the key column (text, default operators, the column's
 *		collation) followed by the order columns, descending.  Anything else
 *		(an index left invalid by an interrupted CREATE or DROP INDEX
 *		CONCURRENTLY, one recreated differently) and the query does the read.
 */
static bool
index_usable(Relation rel, Relation index, KeyRead *kr)
{
	Form_pg_index ix = index->rd_index;
	Oid			relid = RelationGetRelid(rel);
	AttrNumber	keyatt = get_attnum(relid, kr->key);
	int			nkeys = 1;
	int			i;

	if (index->rd_rel->relam != BTREE_AM_OID || ix->indrelid != relid ||
		!ix->indisvalid || !ix->indisready || !ix->indislive ||
		keyatt == InvalidAttrNumber || RelationGetIndexPredicate(index) != NIL)
		return false;
	while (nkeys <= (int) lengthof(kr->order) && kr->order[nkeys - 1] != NULL)
		nkeys++;
	if (ix->indnkeyatts < nkeys ||
		ix->indkey.values[0] != keyatt ||
		index->rd_opfamily[0] != TEXT_BTREE_FAM_OID ||
		index->rd_indcollation[0] != TupleDescAttr(RelationGetDescr(rel), keyatt - 1)->attcollation)
		return false;
	for (i = 1; i < nkeys; i++)
	{
		AttrNumber	att = get_attnum(relid, kr->order[i - 1]);

		if (att == InvalidAttrNumber || ix->indkey.values[i] != att ||
			(index->rd_indoption[i] & INDOPTION_DESC) == 0)
			return false;
	}
	return true;
}

/*
 * read_by_key
 *		The rows of INV_SCHEMA.<kr->table> whose first column of index
 *		kr->index (NULL: the primary key) equals the text key, in index
 *		order, at most limit of them (0: all).  *rows gets them, copied into
 *		the current memory context; returns how many.  Caller is connected to
 *		SPI (only the reads that go through the query need it).
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

	indexid = kr->index ? get_relname_relid(kr->index, nsp) : RelationGetPrimaryKeyIndex(rel);

	/*
	 * The query does the read when the caller lacks SELECT on the whole
	 * table (the executor then checks the column privileges it needs, and
	 * reports what is missing), when row-level security applies to the
	 * caller, and when the index is gone.
	 */
	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
	if (aclresult != ACLCHECK_OK || !OidIsValid(indexid) ||
		check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
	{
		table_close(rel, NoLock);
		return read_by_query(kr, key, limit, after_write, rows);
	}
	index = index_open(indexid, AccessShareLock);
	if (!index_usable(rel, index, kr))
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
