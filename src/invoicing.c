/*-------------------------------------------------------------------------
 *
 * invoicing.c
 *		Module entry point and the plumbing every rule module shares:
 *		cached SPI plans, the internal-write marker, row access by column
 *		name and overflow-checked amount arithmetic.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "common/int.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "catalog/namespace.h"
#include "catalog/pg_enum.h"
#include "commands/sequence.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/syscache.h"
#include "utils/jsonb.h"
#include "utils/rel.h"

#include "invoicing.h"

PG_MODULE_MAGIC;

/*
 * Depth of writes the extension itself is making.  The triggers let these
 * writes set derived columns; any other writer is refused (SQLSTATE 23514).
 * It is restored on every exit path, so a caught error cannot leave it set.
 */
static int	internal_depth = 0;

/* Counts the results inv_exec produces (see spi_row). */
static uint64 spi_result_generation = 0;

/*
 * inv_internal_write
 *		True while the extension's own write is being executed.
 */
bool
inv_internal_write(void)
{
	return internal_depth > 0;
}

/*
 * inv_connect / inv_finish
 *		SPI_connect and SPI_finish with errors for the can't-happen cases.
 */
void
inv_connect(void)
{
	MemoryContext caller = CurrentMemoryContext;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "invoicing: SPI_connect failed");

	/*
	 * Work in the caller's context, so that rows read and built here outlive
	 * SPI_finish; SPI switches to its own contexts where it needs them.
	 */
	MemoryContextSwitchTo(caller);
}

void
inv_finish(void)
{
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "invoicing: SPI_finish failed");
}

/*
 * inv_prepare
 *		Return the cached plan in *slot, preparing and keeping it on first use.
 *
 * Every query text is a constant that qualifies each object with the schema
 * and each operator with pg_catalog, so the plan means the same thing under
 * any search_path.  Plans are always generic: every statement looks rows up
 * by key, where a plan made for the parameters' values is no better, and
 * planning again on each call (the plan cache's choice for some of them,
 * such as a page of payments with LIMIT $n) was a measurable cost.
 */
SPIPlanPtr
inv_prepare(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *argtypes)
{
	if (*slot == NULL)
	{
		MemoryContext caller = CurrentMemoryContext;
		SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, (Oid *) argtypes,
											  CURSOR_OPT_GENERIC_PLAN);

		if (plan == NULL)
			elog(ERROR, "invoicing: SPI_prepare failed (%s): %s",
				 SPI_result_code_string(SPI_result), sql);
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "invoicing: SPI_keepplan failed");
		MemoryContextSwitchTo(caller);
		*slot = plan;
	}
	return *slot;
}

/*
 * inv_exec
 *		Execute a cached plan; errors other than the query's own are
 *		can't-happen cases.  SPI leaves its procedure context current after
 *		each call; the caller's context is restored, so what the caller
 *		allocates next outlives SPI_finish.
 */
int
inv_exec(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only,
		 long count)
{
	MemoryContext caller = CurrentMemoryContext;
	int			rc;

	spi_result_generation++;
	rc = SPI_execute_plan(plan, values, nulls, read_only, count);

	MemoryContextSwitchTo(caller);
	if (rc < 0)
		elog(ERROR, "invoicing: SPI_execute_plan failed: %s",
			 SPI_result_code_string(rc));
	return rc;
}

/*
 * inv_exec_internal
 *		Execute a write of the extension's own: the triggers it fires may set
 *		derived columns.
 */
int
inv_exec_internal(SPIPlanPtr plan, Datum *values, const char *nulls)
{
	int			rc;

	internal_depth++;
	PG_TRY();
	{
		rc = inv_exec(plan, values, nulls, false, 0);
	}
	PG_FINALLY();
	{
		internal_depth--;
	}
	PG_END_TRY();
	return rc;
}

/*
 * The copy of the last SPI result's descriptor that spi_row made, shared by
 * the rows it copies from that result into the same memory context.  A
 * reset callback on that context forgets it before the memory goes.  Every
 * caller of spi_row reads a result of inv_exec, which counts them.
 */
static uint64 desc_generation = 0;
static SPITupleTable *desc_source = NULL;
static MemoryContext desc_context = NULL;
static TupleDesc desc_copy = NULL;

static void
forget_desc_copy(void *arg)
{
	if (desc_copy == (TupleDesc) arg)
	{
		desc_source = NULL;
		desc_context = NULL;
		desc_copy = NULL;
	}
}

/*
 * spi_row
 *		Row i of the last SPI result, copied into the current memory context.
 */
Row *
spi_row(int i)
{
	Row		   *row = palloc(sizeof(Row));

	if (desc_copy == NULL || desc_generation != spi_result_generation ||
		desc_source != SPI_tuptable || desc_context != CurrentMemoryContext)
	{
		MemoryContextCallback *cb = palloc(sizeof(MemoryContextCallback));

		desc_generation = spi_result_generation;
		desc_source = SPI_tuptable;
		desc_context = CurrentMemoryContext;
		desc_copy = CreateTupleDescCopy(SPI_tuptable->tupdesc);
		cb->func = forget_desc_copy;
		cb->arg = desc_copy;
		MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);
	}
	row_from_tuple(row, desc_copy, heap_copytuple(SPI_tuptable->vals[i]));
	return row;
}

/*
 * row_from_tuple
 *		Deform a tuple into a Row.  The values stay in the current memory
 *		context; pass-by-reference values point into the tuple.
 */
void
row_from_tuple(Row *row, TupleDesc desc, HeapTuple tuple)
{
	row->desc = desc;
	row->values = palloc(sizeof(Datum) * desc->natts);
	row->nulls = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(tuple, desc, row->values, row->nulls);
}

/*
 * row_to_tuple
 *		Form a new tuple from a Row.
 */
HeapTuple
row_to_tuple(Row *row)
{
	return heap_form_tuple(row->desc, row->values, row->nulls);
}

/*
 * Where a column was last found, by (name, number of columns): the names
 * are constants of the code, so a column is almost always where it was
 * last time.  A hint only: row_attnum checks the name before trusting it.
 */
#define ATTNUM_CACHE_SIZE 512
static int	attnum_cache[ATTNUM_CACHE_SIZE];
static bool attnum_cache_ready = false;

static uint32
attnum_slot(TupleDesc desc, const char *name)
{
	uint64		h = (uint64) (uintptr_t) name * UINT64CONST(0x9E3779B97F4A7C15);

	if (!attnum_cache_ready)
	{
		memset(attnum_cache, -1, sizeof(attnum_cache));
		attnum_cache_ready = true;
	}
	return ((uint32) (h >> 40) ^ ((uint32) desc->natts * 31)) % ATTNUM_CACHE_SIZE;
}

/*
 * row_attnum
 *		Zero-based index of a column; a missing column is a can't-happen case.
 */
int
row_attnum(Row *row, const char *name)
{
	int			i;
	uint32		slot = attnum_slot(row->desc, name);
	int			cached = attnum_cache[slot];

	if (cached >= 0 && cached < row->desc->natts)
	{
		Form_pg_attribute att = TupleDescAttr(row->desc, cached);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return cached;
	}
	for (i = 0; i < row->desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(row->desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
		{
			attnum_cache[slot] = i;
			return i;
		}
	}
	elog(ERROR, "invoicing: column \"%s\" not found", name);
	return -1;					/* keep compiler quiet */
}

/*
 * row_has
 *		True when the row has the column: the library serves databases still
 *		at an older version of the extension's SQL, whose tables lack the
 *		newer columns.
 */
bool
row_has(Row *row, const char *name)
{
	int			i;

	for (i = 0; i < row->desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(row->desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return true;
	}
	return false;
}

bool
row_isnull(Row *row, const char *name)
{
	return row->nulls[row_attnum(row, name)];
}

Datum
row_get(Row *row, const char *name)
{
	return row->values[row_attnum(row, name)];
}

/*
 * row_int64
 *		A bigint (or integer) column; NULL reads as 0.
 */
int64
row_int64(Row *row, const char *name)
{
	int			i = row_attnum(row, name);
	Oid			typ = TupleDescAttr(row->desc, i)->atttypid;

	if (row->nulls[i])
		return 0;
	if (typ == INT4OID)
		return DatumGetInt32(row->values[i]);
	return DatumGetInt64(row->values[i]);
}

/*
 * row_text
 *		A text column as a C string, or NULL.
 */
char *
row_text(Row *row, const char *name)
{
	int			i = row_attnum(row, name);

	if (row->nulls[i])
		return NULL;
	return TextDatumGetCString(row->values[i]);
}

/*
 * Labels of enum values by pg_enum OID, so that reading a status does not
 * look its type and label up in the catalogs each time.  Any change to
 * pg_enum (an ALTER TYPE ... ADD VALUE, a dropped type) empties it.
 */
#define ENUM_CACHE_SIZE 64

typedef struct EnumLabel
{
	Oid			oid;
	char		label[NAMEDATALEN];
} EnumLabel;

static EnumLabel enum_cache[ENUM_CACHE_SIZE];
static bool enum_cache_registered = false;

static void
enum_cache_reset(Datum arg, int cacheid, uint32 hashvalue)
{
	int			i;

	for (i = 0; i < ENUM_CACHE_SIZE; i++)
		enum_cache[i].oid = InvalidOid;
}

/*
 * row_enum
 *		An enum column's label, or NULL.  Only for columns of enum types.
 */
char *
row_enum(Row *row, const char *name)
{
	int			i = row_attnum(row, name);
	Oid			value;
	EnumLabel  *entry;

	if (row->nulls[i])
		return NULL;
	if (!enum_cache_registered)
	{
		enum_cache_reset((Datum) 0, ENUMOID, 0);
		CacheRegisterSyscacheCallback(ENUMOID, enum_cache_reset, (Datum) 0);
		enum_cache_registered = true;
	}
	value = DatumGetObjectId(row->values[i]);
	entry = &enum_cache[value % ENUM_CACHE_SIZE];
	if (entry->oid != value || !OidIsValid(value))
	{
		HeapTuple	tup = SearchSysCache1(ENUMOID, ObjectIdGetDatum(value));

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "invoicing: invalid internal value %u for enum column \"%s\"",
				 value, name);
		strlcpy(entry->label, NameStr(((Form_pg_enum) GETSTRUCT(tup))->enumlabel),
				NAMEDATALEN);
		entry->oid = value;
		ReleaseSysCache(tup);
	}
	return pstrdup(entry->label);
}

void
row_set(Row *row, const char *name, Datum value, bool isnull)
{
	int			i = row_attnum(row, name);

	row->values[i] = value;
	row->nulls[i] = isnull;
}

void
row_set_int64(Row *row, const char *name, int64 value)
{
	row_set(row, name, Int64GetDatum(value), false);
}

void
row_set_text(Row *row, const char *name, const char *value)
{
	if (value == NULL)
		row_set(row, name, (Datum) 0, true);
	else
		row_set(row, name, CStringGetTextDatum(value), false);
}

/*
 * row_set_enum
 *		Set an enum column from its label.
 */
void
row_set_enum(Row *row, const char *name, const char *label)
{
	int			i = row_attnum(row, name);
	Oid			typ = TupleDescAttr(row->desc, i)->atttypid;
	Oid			infunc;
	Oid			ioparam;

	getTypeInputInfo(typ, &infunc, &ioparam);
	row->values[i] = OidInputFunctionCall(infunc, (char *) label, ioparam, -1);
	row->nulls[i] = false;
}

/*
 * row_same
 *		True when a column holds the same value in both rows.
 */
bool
row_same(Row *a, Row *b, const char *name)
{
	int			i = row_attnum(a, name);
	Form_pg_attribute att = TupleDescAttr(a->desc, i);

	if (a->nulls[i] || b->nulls[i])
		return a->nulls[i] == b->nulls[i];
	return datumIsEqual(a->values[i], b->values[i], att->attbyval, att->attlen);
}

/*
 * amount_out_of_range
 *		The error of amount arithmetic that would wrap (SPEC 1: 22003).
 */
static void
amount_out_of_range(int64 a, const char *op, int64 b)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("amount out of range: " INT64_FORMAT " %s " INT64_FORMAT, a, op, b)));
}

/*
 * add_amounts, sub_amounts, mul_amount
 *		Amount arithmetic that never wraps.
 */
int64
add_amounts(int64 a, int64 b)
{
	int64		r;

	if (pg_add_s64_overflow(a, b, &r))
		amount_out_of_range(a, "+", b);
	return r;
}

int64
sub_amounts(int64 a, int64 b)
{
	int64		r;

	if (pg_sub_s64_overflow(a, b, &r))
		amount_out_of_range(a, "-", b);
	return r;
}

int64
mul_amount(int64 a, int64 b)
{
	int64		r;

	if (pg_mul_s64_overflow(a, b, &r))
		amount_out_of_range(a, "*", b);
	return r;
}

/*
 * trigger_data
 *		Check that a trigger function was called as a row trigger.
 */
TriggerData *
trigger_data(FunctionCallInfo fcinfo, const char *name)
{
	TriggerData *td;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "%s: not called by trigger manager", name);
	td = (TriggerData *) fcinfo->context;
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "%s: must be fired for each row", name);
	return td;
}

/*
 * refuse_derived_change
 *		Refuse a change, by anyone but the extension, of a derived column
 *		(SPEC 4: SQLSTATE 23514).
 */
void
refuse_derived_change(Row *oldrow, Row *newrow, const char *const *cols,
					  const char *what, const char *id)
{
	const char *const *c;

	if (inv_internal_write())
		return;
	for (c = cols; *c != NULL; c++)
	{
		if (row_has(oldrow, *c) && !row_same(oldrow, newrow, *c))
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("column \"%s\" of %s \"%s\" is maintained by invoicing and cannot be written",
							*c, what, id),
					 errhint("Derived columns change only through the extension's rules.")));
	}
}

/*
 * refuse_changes_except
 *		Refuse a change, by anyone but the extension, of any column but the
 *		allowed ones (23514: the others are derived or fixed at creation).
 */
void
refuse_changes_except(Row *oldrow, Row *newrow, const char *const *allowed,
					  const char *what, const char *id)
{
	int			i;

	if (inv_internal_write())
		return;
	for (i = 0; i < oldrow->desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(oldrow->desc, i);
		const char *name = NameStr(att->attname);
		const char *const *a;
		bool		ok = false;

		if (att->attisdropped)
			continue;
		for (a = allowed; *a != NULL; a++)
			if (strcmp(*a, name) == 0)
				ok = true;
		if (!ok && !row_same(oldrow, newrow, name))
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("column \"%s\" of %s \"%s\" is maintained by invoicing and cannot be written",
							name, what, id)));
	}
}

/*
 * check_metadata
 *		Stripe's metadata: an object of at most 50 keys of up to 40
 *		characters, each with a string value of up to 500 characters
 *		(22023 otherwise).  Checked when written: on insert, or on update
 *		when it changed (oldrow NULL for an insert).
 */
void
check_metadata(Row *oldrow, Row *newrow, const char *what)
{
	Jsonb	   *jb;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			depth = 0;
	int			nkeys = 0;

	if (!row_has(newrow, "metadata") || row_isnull(newrow, "metadata"))
		return;
	if (oldrow != NULL && row_same(oldrow, newrow, "metadata"))
		return;
	jb = DatumGetJsonbP(row_get(newrow, "metadata"));
	if (!JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid metadata of %s \"%s\": it must be a JSON object",
						what, row_text(newrow, "id")),
				 errhint("Metadata maps keys to string values, as in Stripe.")));
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_BEGIN_OBJECT)
			depth++;
		else if (tok == WJB_END_OBJECT)
			depth--;
		else if (tok == WJB_KEY)
		{
			nkeys++;
			if (v.val.string.len > 40 || nkeys > 50)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid metadata of %s \"%s\": at most 50 keys of up to 40 characters",
								what, row_text(newrow, "id"))));
		}
		else if (tok == WJB_VALUE)
		{
			if (v.type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid metadata of %s \"%s\": every value must be a string",
								what, row_text(newrow, "id")),
						 errhint("Metadata maps keys to string values, as in Stripe.")));
			if (v.val.string.len > 500)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid metadata of %s \"%s\": a value is longer than 500 characters",
								what, row_text(newrow, "id"))));
		}
	}
}

/*
 * require_arg
 *		A SQL function argument that must not be NULL (SPEC 5: 22004).
 */
void
require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"%s\" must not be null", name)));
}

/*
 * text_datum
 *		A text Datum, or 0 for NULL (pair it with a 'n' null flag).
 */
Datum
text_datum(const char *s)
{
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/*
 * text_datum_cstring
 *		A text Datum as a C string.
 */
char *
text_datum_cstring(Datum d)
{
	return TextDatumGetCString(d);
}

/*
 * unix_seconds
 *		A timestamptz as Unix seconds, as Stripe shows times.
 */
int64
unix_seconds(TimestampTz ts)
{
	int64		secs = ts / USECS_PER_SEC;

	if (ts < 0 && ts % USECS_PER_SEC != 0)
		secs--;
	return secs + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
}

PG_FUNCTION_INFO_V1(invoicing_refuse_truncate);

/*
 * refuse_truncate trigger (BEFORE TRUNCATE, for each statement)
 *		Balance transactions, payments, credit notes, refunds and events are
 *		never deleted, and the derived values of the other tables are sums
 *		over them: no table of the extension can be truncated.
 */
Datum
invoicing_refuse_truncate(PG_FUNCTION_ARGS)
{
	TriggerData *td;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "refuse_truncate: not called by trigger manager");
	td = (TriggerData *) fcinfo->context;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("table \"%s\" of invoicing cannot be truncated",
					RelationGetRelationName(td->tg_relation)),
			 errhint("Drop the extension to remove all billing data.")));
	PG_RETURN_NULL();
}

/*
 * arg_text
 *		A required text argument of a SQL function (22004 when NULL).
 */
char *
arg_text(FunctionCallInfo fcinfo, int argno, const char *name)
{
	require_arg(fcinfo, argno, name);
	return TextDatumGetCString(PG_GETARG_DATUM(argno));
}

/*
 * arg_text_opt
 *		An optional text argument: NULL stays NULL.
 */
char *
arg_text_opt(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return NULL;
	return TextDatumGetCString(PG_GETARG_DATUM(argno));
}

/*
 * check_enum_arg
 *		A function argument naming a value of one of the extension's enum
 *		types: unknown values are 22023 (PostgreSQL's own cast would say
 *		22P02), with the valid values in the hint.
 */
void
check_enum_arg(const char *typname, const char *label, const char *argname)
{
	Oid			nsp = get_namespace_oid(INV_SCHEMA, false);
	Oid			typoid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
										 CStringGetDatum(typname),
										 ObjectIdGetDatum(nsp));

	if (label == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"%s\" must not be null", argname)));
	if (!OidIsValid(typoid))
		elog(ERROR, "invoicing: type %s.%s not found", INV_SCHEMA, typname);
	if (strlen(label) >= NAMEDATALEN ||
		!SearchSysCacheExists2(ENUMTYPOIDNAME, ObjectIdGetDatum(typoid),
							   CStringGetDatum(label)))
	{
		static SPIPlanPtr plan = NULL;
		Oid			argtypes[1] = {OIDOID};
		Datum		values[1];
		char	   *valid;

		inv_connect();
		inv_prepare(&plan,
					"SELECT pg_catalog.string_agg(enumlabel::pg_catalog.text, ', '"
					" ORDER BY enumsortorder) FROM pg_catalog.pg_enum"
					" WHERE enumtypid OPERATOR(pg_catalog.=) $1",
					1, argtypes);
		values[0] = ObjectIdGetDatum(typoid);
		inv_exec(plan, values, NULL, true, 1);
		valid = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		inv_finish();
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s value: \"%s\"", argname, label),
				 errhint("Valid values are: %s.", valid ? valid : "")));
	}
}

/*
 * args_to_params
 *		A SQL function's arguments as the parameters of its statement, in the
 *		same order (NULL stays NULL).
 */
void
args_to_params(FunctionCallInfo fcinfo, int nargs, Datum *values, char *nulls)
{
	int			i;

	for (i = 0; i < nargs; i++)
	{
		values[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
}

/*
 * exec_returning_id
 *		Run a write of a SQL function (the triggers apply every rule to it)
 *		and return the text in the first column of its one result row, or
 *		NULL when it touched no row.
 */
char *
exec_returning_id(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *argtypes,
				  Datum *values, const char *nulls)
{
	char	   *id = NULL;

	inv_connect();
	inv_prepare(slot, sql, nargs, argtypes);
	inv_exec(*slot, values, nulls, false, 0);
	if (SPI_processed > 0)
		id = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	inv_finish();
	return id;
}

/*
 * exec_returning_row
 *		The same for a statement that returns its whole row (RETURNING *):
 *		the row as written, with what the triggers derived, or NULL.
 */
Row *
exec_returning_row(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *argtypes,
				   Datum *values, const char *nulls)
{
	Row		   *row = NULL;

	inv_connect();
	inv_prepare(slot, sql, nargs, argtypes);
	inv_exec(*slot, values, nulls, false, 0);
	if (SPI_processed > 0)
		row = spi_row(0);
	inv_finish();
	return row;
}

/*
 * next_seq
 *		The next value of one of the extension's sequences, for a row's
 *		insertion-order column: the triggers draw it themselves, after they
 *		have taken their locks, so no writer can choose a row's place.
 */
int64
next_seq(const char *seqname)
{
	Oid			relid = get_relname_relid(seqname, get_namespace_oid(INV_SCHEMA, false));

	if (!OidIsValid(relid))
		elog(ERROR, "invoicing: sequence %s.%s not found", INV_SCHEMA, seqname);
	return nextval_internal(relid, false);
}
