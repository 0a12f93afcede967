/*-------------------------------------------------------------------------
 *
 * events.c
 *		The event outbox (SPEC 6): which events a change emits, in which
 *		order, written to invoicing.events in the changing transaction and
 *		announced with NOTIFY invoicing_events, '<event id>' (delivered at
 *		commit only, so a rolled-back change announces nothing).
 *
 * Order within one change: the event of the object that changed
 * (invoice_payment.paid, credit_note.created, credit_note.voided) is emitted
 * by its module before it touches the invoice; the invoice's trigger then
 * emits invoice.updated (when its JSON changed) and its status events.
 * Payloads are built by json.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_sequence.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "invoicing.h"

#define EVENTS_CHANNEL "invoicing_events"

/*
 * events_enabled
 *		The database's version of the extension has the events table (0.3
 *		on); older versions served by this library emit nothing.
 */
static bool
events_enabled(void)
{
	Oid			nsp = get_namespace_oid(INV_SCHEMA, true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("events", nsp));
}

/*
 * The seq values this transaction's events drew when they were inserted:
 * first..last, count of them (rolled-back subtransactions' included), each
 * of them (in TopTransactionContext), and whether, at commit, they may keep
 * them (see events_sequence_trigger).
 */
typedef struct EventSeqState
{
	TransactionId xid;			/* the transaction they belong to */
	int64		first;
	int64		last;
	int64		count;
	int64	   *seqs;			/* the count values drawn */
	int64		maxseqs;		/* allocated length of seqs */
	bool		decided;
	bool		keep;
	int64		kept_last;		/* the last seq the decision covers */
} EventSeqState;

static EventSeqState seq_state = {InvalidTransactionId, 0, 0, 0, NULL, 0, false, false, 0};

/*
 * remember_seq
 *		Note a seq this transaction's event drew.
 */
static void
remember_seq(int64 seq)
{
	TransactionId xid = GetTopTransactionId();

	if (seq_state.xid != xid)
	{
		int64	   *seqs = MemoryContextAlloc(TopTransactionContext, sizeof(int64) * 8);

		seq_state.seqs = seqs;
		seq_state.maxseqs = 8;
		seq_state.count = 0;
		seq_state.first = seq;
		seq_state.decided = false;
		seq_state.keep = false;
		seq_state.xid = xid;
	}
	if (seq_state.count == seq_state.maxseqs)
	{
		int64	   *seqs = repalloc(seq_state.seqs, sizeof(int64) * seq_state.maxseqs * 2);

		seq_state.seqs = seqs;
		seq_state.maxseqs *= 2;
	}
	seq_state.seqs[seq_state.count++] = seq;
	seq_state.last = seq;
}

/*
 * insert_event
 *		Write one event and queue its notification.  Caller is connected to
 *		SPI.
 */
static void
insert_event(const char *id, const char *type, const char *object_id,
			 TimestampTz created, Datum payload)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[5] = {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, JSONBOID};
	Datum		values[5];
	bool		isnull;
	int64		seq;

	inv_prepare(&plan,
				"INSERT INTO " INV_SCHEMA ".events (id, type, object_id, created, payload)"
				" VALUES ($1, $2, $3, $4, $5) RETURNING seq",
				5, argtypes);
	values[0] = CStringGetTextDatum(id);
	values[1] = CStringGetTextDatum(type);
	values[2] = CStringGetTextDatum(object_id);
	values[3] = TimestampTzGetDatum(created);
	values[4] = payload;
	inv_exec_internal(plan, values, NULL);
	seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									  1, &isnull));
	Async_Notify(EVENTS_CHANNEL, id);
	remember_seq(seq);
}

/*
 * emit
 *		Build and write one event about an object.
 */
static void
emit(const char *type, const char *object_id, EventSource *src)
{
	char	   *id = generate_id("evt_");
	TimestampTz created = GetCurrentTransactionStartTimestamp();
	Datum		payload;

	payload = event_payload(id, type, created, src);
	inv_connect();
	insert_event(id, type, object_id, created, payload);
	inv_finish();
}

/*
 * emit_invoice_payment_event
 *		invoice_payment.paid, from the payment as it now is.
 */
void
emit_invoice_payment_event(Row *pay)
{
	EventSource src = {0};

	if (!events_enabled())
		return;
	src.kind = EVENT_INVOICE_PAYMENT;
	src.row = pay;
	emit("invoice_payment.paid", row_text(pay, "id"), &src);
}

/*
 * emit_credit_note_event
 *		credit_note.created or credit_note.voided.  alloc carries the refunds
 *		of a note being created; NULL reads them from the table.
 */
void
emit_credit_note_event(const char *type, Row *cn, CreditNoteAlloc *alloc)
{
	EventSource src = {0};

	if (!events_enabled())
		return;
	src.kind = EVENT_CREDIT_NOTE;
	src.row = cn;
	src.alloc = alloc;
	emit(type, row_text(cn, "id"), &src);
}

/*
 * status_became
 *		The invoice's status changed to 'status' in this update.
 */
static bool
status_became(Row *oldrow, Row *newrow, const char *status)
{
	return strcmp(row_enum(newrow, "status"), status) == 0 &&
		strcmp(row_enum(oldrow, "status"), status) != 0;
}

/*
 * emit_invoice_events
 *		The invoice's events for one update, in SPEC 6's order.
 */
void
emit_invoice_events(Row *oldrow, Row *newrow)
{
	EventSource src = {0};
	char	   *id;
	bool		became_paid;

	if (!events_enabled())
		return;
	if (strcmp(row_enum(newrow, "status"), "draft") == 0)
		return;					/* drafts emit nothing */

	id = row_text(newrow, "id");
	src.kind = EVENT_INVOICE;
	src.row = newrow;
	became_paid = status_became(oldrow, newrow, "paid");

	if (strcmp(row_enum(oldrow, "status"), "draft") == 0)
	{
		/* finalization: invoice.finalized, no invoice.updated */
		emit("invoice.finalized", id, &src);
		if (became_paid)
			emit("invoice.paid", id, &src);
		return;
	}

	src.old = oldrow;
	if (invoice_json_changed(oldrow, newrow))
		emit("invoice.updated", id, &src);
	src.old = NULL;

	if (became_paid)
		emit("invoice.paid", id, &src);
	if (became_paid && row_int64(newrow, "amount_paid") > row_int64(oldrow, "amount_paid"))
		emit("invoice.payment_succeeded", id, &src);
	if (row_int64(newrow, "amount_overpaid") > row_int64(oldrow, "amount_overpaid"))
		emit("invoice.overpaid", id, &src);
	if (status_became(oldrow, newrow, "void"))
		emit("invoice.voided", id, &src);
	if (status_became(oldrow, newrow, "uncollectible"))
		emit("invoice.marked_uncollectible", id, &src);
}

PG_FUNCTION_INFO_V1(invoicing_events_trigger);

/*
 * events trigger (BEFORE INSERT OR UPDATE OR DELETE)
 *		Events are written by invoicing only and never change or go away.
 */
Datum
invoicing_events_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = trigger_data(fcinfo, "events_trigger");

	if (TRIGGER_FIRED_BY_DELETE(td->tg_event) ||
		(TRIGGER_FIRED_BY_UPDATE(td->tg_event) && !inv_internal_write()))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("events cannot be changed or deleted")));
	if (!inv_internal_write())
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("events are written by invoicing only")));
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		return PointerGetDatum(td->tg_newtuple);
	return PointerGetDatum(td->tg_trigtuple);
}

/*
 * Advisory lock that orders the commits of event-writing transactions with
 * the readers of events_after ("invoices" in ASCII, as a bigint key).
 */
#define EVENTS_SEQ_LOCK INT64CONST(0x696e766f69636573)

/*
 * The events_sequence trigger's argument from 0.4 on.  Without it (0.3),
 * writers take the lock exclusively and numbering needs no reader's help.
 */
#define READERS_WAIT "readers_wait"

/*
 * events_seq_oid
 *		The sequence events draw their seq from.
 */
static Oid
events_seq_oid(void)
{
	Oid			seqoid = get_relname_relid("events_seq",
										   get_namespace_oid(INV_SCHEMA, false));

	if (!OidIsValid(seqoid))
		elog(ERROR, "invoicing: sequence " INV_SCHEMA ".events_seq is missing");
	return seqoid;
}

/*
 * events_seq_last_value
 *		The last value the events sequence handed out (0 before the first).
 */
static int64
events_seq_last_value(void)
{
	LOCAL_FCINFO(fcinfo, 1);
	Oid			seqoid = events_seq_oid();
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(seqoid);
	fcinfo->args[0].isnull = false;
	result = pg_sequence_last_value(fcinfo);
	return fcinfo->isnull ? 0 : DatumGetInt64(result);
}

/*
 * others_committed_after
 *		Whether another transaction has committed an event whose seq is above
 *		'first', as of now (a fresh snapshot, whatever the isolation level).
 *		Caller is connected to SPI.
 */
static bool
others_committed_after(int64 first)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[2] = {INT8OID, INT8ARRAYOID};
	Datum		values[2];
	Datum	   *elems = palloc(sizeof(Datum) * seq_state.count);
	MemoryContext caller = CurrentMemoryContext;
	Snapshot	snapshot;
	int64		i;
	int			rc;

	inv_prepare(&plan,
				"SELECT 1 FROM " INV_SCHEMA ".events"
				" WHERE seq OPERATOR(pg_catalog.>) $1"
				" AND seq OPERATOR(pg_catalog.<>) ALL ($2)"
				" ORDER BY seq DESC LIMIT 1",
				2, argtypes);
	for (i = 0; i < seq_state.count; i++)
		elems[i] = Int64GetDatum(seq_state.seqs[i]);
	values[0] = Int64GetDatum(first);
	values[1] = PointerGetDatum(construct_array(elems, (int) seq_state.count, INT8OID,
												sizeof(int64), FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	rc = SPI_execute_snapshot(plan, values, NULL, snapshot, InvalidSnapshot,
							  true, false, 1);
	MemoryContextSwitchTo(caller);
	UnregisterSnapshot(snapshot);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "invoicing: SPI_execute_snapshot failed: %s",
			 SPI_result_code_string(rc));
	return SPI_processed > 0;
}

/*
 * keep_seqs
 *		Whether this transaction's events may keep the seq values they drew.
 *		Called under the lock, with the events not yet visible to others.
 *
 * Always when they are the newest block the sequence has handed out, with
 * nothing drawn in between or since: every other event, committed or not,
 * then has a smaller seq.
 *
 * When readers wait (0.4 on), also when no other transaction has committed
 * an event above our first seq.  Writers that hold the lock shared may then
 * commit in either order, but a reader takes the lock exclusively and so
 * sees both or neither; and whoever drew a smaller seq than a committed
 * event's, and has not yet committed, finds that event here and draws again.
 *
 * Without readers' help (0.3), a reader may look at any moment, so only the
 * first rule is safe.  The second is checked for transactions with a few
 * events only (its query compares each event it meets with ours); a large
 * batch that is not the newest block draws its seqs again, as in 0.3.
 */
#define KEEP_CHECK_MAX_EVENTS 64

static bool
keep_seqs(bool readers_wait)
{
	if (seq_state.xid != GetTopTransactionIdIfAny())
		return false;
	if (events_seq_last_value() == seq_state.last &&
		seq_state.last - seq_state.first + 1 == seq_state.count)
		return true;
	return readers_wait && seq_state.count <= KEEP_CHECK_MAX_EVENTS &&
		!others_committed_after(seq_state.first);
}

/*
 * numbering_tag
 *		The advisory lock tag of EVENTS_SEQ_LOCK, the same one
 *		pg_advisory_xact_lock(bigint) and its shared form use.
 */
static void
numbering_tag(LOCKTAG *tag)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) (EVENTS_SEQ_LOCK >> 32),
						 (uint32) EVENTS_SEQ_LOCK, 1);
}

/*
 * lock_numbering
 *		Take the numbering lock for the rest of the transaction.  It belongs
 *		to the top transaction, not to the current subtransaction: a ROLLBACK
 *		TO after an early numbering (SET CONSTRAINTS ALL IMMEDIATE) must not
 *		release it, since the decision made under it stands until commit.
 */
static void
lock_numbering(LOCKMODE mode)
{
	ResourceOwner saved = CurrentResourceOwner;
	LOCKTAG		tag;

	numbering_tag(&tag);
	CurrentResourceOwner = TopTransactionResourceOwner;
	PG_TRY();
	{
		(void) LockAcquire(&tag, mode, false, false);
	}
	PG_FINALLY();
	{
		CurrentResourceOwner = saved;
	}
	PG_END_TRY();
}

/*
 * require_seq_cache_1
 *		Numbering relies on nextval handing out increasing values to every
 *		backend, which a sequence cache would break (55000).
 */
static void
require_seq_cache_1(void)
{
	HeapTuple	tup = SearchSysCache1(SEQRELID, ObjectIdGetDatum(events_seq_oid()));
	int64		cache;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "invoicing: sequence " INV_SCHEMA ".events_seq is missing");
	cache = ((Form_pg_sequence) GETSTRUCT(tup))->seqcache;
	ReleaseSysCache(tup);
	if (cache != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("sequence " INV_SCHEMA ".events_seq has CACHE " INT64_FORMAT ", events need CACHE 1",
						cache),
				 errdetail("With a cache, backends hand out seq values out of order, and a consumer could miss events."),
				 errhint("ALTER SEQUENCE " INV_SCHEMA ".events_seq CACHE 1;")));
}

PG_FUNCTION_INFO_V1(invoicing_events_sequence_trigger);

/*
 * events_sequence trigger (AFTER INSERT, deferred to commit, for each row)
 *
 * Makes seq order the order in which events become visible to a reader of
 * events_after.  The first call takes a transaction-level advisory lock,
 * held until the commit is complete.  From 0.4 on (trigger argument
 * "readers_wait") the lock is taken shared, so writers do not wait for one
 * another, and events_after takes it exclusively before it takes its
 * snapshot, so it never sees a commit half-way through numbering.  In 0.3
 * (no argument) writers take it exclusively and commit one at a time.
 *
 * The transaction's events keep the seq values they drew when that is safe
 * (keep_seqs); otherwise each draws a new one, in insertion order (rows
 * arrive in that order), so the events of one transaction keep their order.
 */
Datum
invoicing_events_sequence_trigger(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	TriggerData *td = trigger_data(fcinfo, "events_sequence_trigger");
	TupleDesc	desc = td->tg_relation->rd_att;
	Trigger    *trigger = td->tg_trigger;
	bool		readers_wait = trigger->tgnargs > 0 &&
		strcmp(trigger->tgargs[0], READERS_WAIT) == 0;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	bool		isnull;
	int64		seq;

	lock_numbering(readers_wait ? ShareLock : ExclusiveLock);
	inv_connect();
	if (!seq_state.decided || seq_state.xid != GetTopTransactionIdIfAny())
	{
		require_seq_cache_1();
		seq_state.keep = keep_seqs(readers_wait);
		seq_state.kept_last = seq_state.last;
		seq_state.decided = true;
	}
	seq = DatumGetInt64(heap_getattr(td->tg_trigtuple, SPI_fnumber(desc, "seq"),
									 desc, &isnull));
	if (!(seq_state.keep && seq >= seq_state.first && seq <= seq_state.kept_last))
	{
		inv_prepare(&plan,
					"UPDATE " INV_SCHEMA ".events"
					" SET seq = pg_catalog.nextval('" INV_SCHEMA ".events_seq')"
					" WHERE id" EQ "$1",
					1, argtypes);
		values[0] = heap_getattr(td->tg_trigtuple, SPI_fnumber(desc, "id"), desc, &isnull);
		inv_exec_internal(plan, values, NULL);
	}
	inv_finish();
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(invoicing_events_after);

/*
 * invoicing.events_after(after_seq bigint, max_events integer = 100)
 *		returns setof invoicing.events
 *
 * The events after a consumer's cursor, in seq order.  It first waits for
 * the transactions that are committing events (they hold the lock shared
 * from numbering to the end of their commit), then reads with a snapshot
 * taken before anyone else can start numbering: every event it returns
 * comes after every event that can still commit.  The lock is held only
 * while the snapshot is taken.  NULL arguments read as 0 and 100.
 *
 * The caller's own uncommitted events are left out: their seq is not final
 * until the caller commits, and they are returned after that.  On a standby
 * commits replay in WAL order, which can differ from seq order, so it
 * refuses to run there (55000).
 */
Datum
invoicing_events_after(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			argtypes[2] = {INT8OID, INT4OID};
	Datum		values[2];
	LOCKTAG		tag;
	Snapshot	snapshot;

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("events_after cannot run on a standby"),
				 errdetail("A standby makes commits visible in WAL order, which can differ from seq order, so a consumer could miss an event."),
				 errhint("Read events from the primary.")));

	InitMaterializedSRF(fcinfo, 0);
	values[0] = Int64GetDatum(PG_ARGISNULL(0) ? 0 : PG_GETARG_INT64(0));
	values[1] = Int32GetDatum(PG_ARGISNULL(1) ? 100 : Max(PG_GETARG_INT32(1), 0));

	/*
	 * A transaction lock, released as soon as the snapshot is taken; an
	 * error or cancel at any point leaves it to abort to release.
	 */
	numbering_tag(&tag);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	LockRelease(&tag, ExclusiveLock, false);

	PG_TRY();
	{
		TupleDesc	out = rsinfo->setDesc;
		Datum	   *outvalues = palloc(sizeof(Datum) * out->natts);
		bool	   *outnulls = palloc(sizeof(bool) * out->natts);
		int		   *from = palloc(sizeof(int) * out->natts);
		int			xmin_col;
		uint64		i;
		int			rc;
		int			a;

		inv_connect();
		inv_prepare(&plan,
					"SELECT e.*, e.xmin FROM " INV_SCHEMA ".events e"
					" WHERE e.seq OPERATOR(pg_catalog.>) $1 ORDER BY e.seq LIMIT $2",
					2, argtypes);
		rc = SPI_execute_snapshot(plan, values, NULL, snapshot, InvalidSnapshot,
								  true, false, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "invoicing: SPI_execute_snapshot failed: %s",
				 SPI_result_code_string(rc));

		/* output columns by name: the row type may hold dropped columns */
		xmin_col = SPI_tuptable->tupdesc->natts;
		for (a = 0; a < out->natts; a++)
			from[a] = TupleDescAttr(out, a)->attisdropped ? SPI_ERROR_NOATTRIBUTE :
				SPI_fnumber(SPI_tuptable->tupdesc, NameStr(TupleDescAttr(out, a)->attname));

		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			bool		isnull;
			TransactionId xmin = DatumGetTransactionId(SPI_getbinval(tup, SPI_tuptable->tupdesc,
																	 xmin_col, &isnull));

			if (TransactionIdIsCurrentTransactionId(xmin))
				continue;		/* our own, not yet numbered for good */
			for (a = 0; a < out->natts; a++)
			{
				if (from[a] <= 0)
				{
					outvalues[a] = (Datum) 0;
					outnulls[a] = true;
				}
				else
					outvalues[a] = SPI_getbinval(tup, SPI_tuptable->tupdesc, from[a],
												 &outnulls[a]);
			}
			tuplestore_putvalues(rsinfo->setResult, out, outvalues, outnulls);
		}
		inv_finish();
	}
	PG_FINALLY();
	{
		UnregisterSnapshot(snapshot);
	}
	PG_END_TRY();
	return (Datum) 0;
}
