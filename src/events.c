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
#include "catalog/namespace.h"
#include "commands/async.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

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
 * first..last, count of them (rolled-back subtransactions' included), and
 * whether, at commit, they may keep them (see events_sequence_trigger).
 */
typedef struct EventSeqState
{
	TransactionId xid;			/* the transaction they belong to */
	int64		first;
	int64		last;
	int64		count;
	bool		decided;
	bool		keep;
	int64		kept_last;		/* the last seq the decision covers */
} EventSeqState;

static EventSeqState seq_state = {InvalidTransactionId, 0, 0, 0, false, false, 0};

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

	TransactionId xid;
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

	xid = GetTopTransactionId();
	if (seq_state.xid != xid)
	{
		seq_state.xid = xid;
		seq_state.first = seq;
		seq_state.count = 0;
		seq_state.decided = false;
		seq_state.keep = false;
	}
	seq_state.last = seq;
	seq_state.count++;
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
 * Advisory lock key that orders the commits of event-writing transactions
 * ("invoices" in ASCII).
 */
#define EVENTS_SEQ_LOCK INT64CONST(0x696e766f69636573)

PG_FUNCTION_INFO_V1(invoicing_events_sequence_trigger);

/*
 * keep_seqs
 *		Whether this transaction's events may keep the seq values they drew:
 *		only when they are the newest block the sequence has handed out, with
 *		nothing drawn in between or since.  Then no transaction that commits
 *		later can hold a smaller seq (whoever drew one before ours finds at
 *		its own commit that it is not the newest block and draws again), and
 *		no committed event lies inside our block.  Called under the lock.
 */
static bool
keep_seqs(void)
{
	static SPIPlanPtr plan = NULL;
	bool		isnull;
	int64		last_value;

	if (seq_state.xid != GetTopTransactionIdIfAny())
		return false;
	inv_prepare(&plan, "SELECT last_value FROM " INV_SCHEMA ".events_seq", 0, NULL);
	inv_exec(plan, NULL, NULL, false, 1);
	last_value = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											 SPI_tuptable->tupdesc, 1, &isnull));
	return last_value == seq_state.last &&
		seq_state.last - seq_state.first + 1 == seq_state.count;
}

/*
 * events_sequence trigger (AFTER INSERT, deferred to commit, for each row)
 *
 * Makes seq order commit order.  The first call takes a transaction-level
 * advisory lock, held until the commit is complete, so transactions finish
 * their numbering in the order they commit, and a reader that sees an event
 * also sees every event with a smaller seq.  The transaction's events keep
 * the seq values they drew when that is safe (keep_seqs); otherwise each
 * draws a new one, in insertion order (rows arrive in that order), so the
 * events of one transaction keep their order.
 */
Datum
invoicing_events_sequence_trigger(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	TriggerData *td = trigger_data(fcinfo, "events_sequence_trigger");
	TupleDesc	desc = td->tg_relation->rd_att;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	bool		isnull;
	int64		seq;

	DirectFunctionCall1(pg_advisory_xact_lock_int8, Int64GetDatum(EVENTS_SEQ_LOCK));
	inv_connect();
	if (!seq_state.decided || seq_state.xid != GetTopTransactionIdIfAny())
	{
		seq_state.keep = keep_seqs();
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
