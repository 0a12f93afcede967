/*-------------------------------------------------------------------------
 *
 * credit_notes.c
 *		Credit notes (rules C and CV, invariants 4, 5 and 9) and the refunds
 *		they make.
 *
 * One allocation routine, allocate_credit_note(), computes a credit note's
 * split against a (locked) invoice, checks its amount and dispositions and
 * spreads its refund over the invoice's paid PaymentIntent payments, newest
 * first.  create_credit_note (through the credit_notes triggers, so a plain
 * INSERT is the same) and preview_credit_note both use it.
 *
 * The BEFORE INSERT trigger locks the invoice, allocates, writes the refunds
 * and the customer balance transaction (their foreign keys to the credit
 * note are deferred), emits credit_note.created and then moves the invoice's
 * accumulators (pre/post counters, the refundable amount, the credit-note
 * count), so the invoice's own events follow the credit note's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "invoicing.h"

/*
 * allocate_credit_note
 *		Rule C against an invoice row (locked by the caller unless this is a
 *		preview).  Fills alloc, including the refund spread; errors are the
 *		rule's SQLSTATEs.  Caller is connected to SPI.
 */
void
allocate_credit_note(Row *inv, CreditNoteAlloc *alloc)
{
	char	   *id = row_text(inv, "id");
	char	   *status = row_enum(inv, "status");
	int64		total = row_int64(inv, "total");
	int64		issued;
	int64		creditable;
	int64		remaining = row_int64(inv, "amount_remaining");
	int64		dispositions;
	int64		refundable;

	if (strcmp(status, "open") != 0 && strcmp(status, "paid") != 0 &&
		strcmp(status, "uncollectible") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot credit invoice \"%s\": it is %s", id, status),
				 errhint("Credit notes can be issued for open, paid or uncollectible invoices.")));
	if (alloc->amount <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid credit note amount " INT64_FORMAT " for invoice \"%s\"",
						alloc->amount, id),
				 errhint("The amount must be above 0.")));
	if (alloc->refund_amount < 0 || alloc->credit_amount < 0 ||
		alloc->out_of_band_amount < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid credit note dispositions for invoice \"%s\": refund_amount " INT64_FORMAT ", credit_amount " INT64_FORMAT ", out_of_band_amount " INT64_FORMAT,
						id, alloc->refund_amount, alloc->credit_amount,
						alloc->out_of_band_amount),
				 errhint("Each disposition must be 0 or more.")));

	issued = add_amounts(row_int64(inv, "pre_payment_credit_notes_amount"),
						 row_int64(inv, "post_payment_credit_notes_amount"));
	creditable = sub_amounts(total, issued);
	if (alloc->amount > creditable)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("credit note amount " INT64_FORMAT " exceeds the amount " INT64_FORMAT " still creditable on invoice \"%s\"",
						alloc->amount, creditable, id),
				 errdetail("The invoice total is " INT64_FORMAT " and " INT64_FORMAT " is already credited.",
						   total, issued)));

	alloc->pre_payment_amount = alloc->amount < remaining ? alloc->amount : remaining;
	if (alloc->pre_payment_amount < 0)
		alloc->pre_payment_amount = 0;
	alloc->post_payment_amount = alloc->amount - alloc->pre_payment_amount;
	alloc->type = alloc->post_payment_amount == 0 ? "pre_payment" :
		alloc->pre_payment_amount == 0 ? "post_payment" : "mixed";

	dispositions = add_amounts(add_amounts(alloc->refund_amount, alloc->credit_amount),
							   alloc->out_of_band_amount);
	if (dispositions != alloc->post_payment_amount)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("credit note dispositions " INT64_FORMAT " do not equal the post-payment amount " INT64_FORMAT " on invoice \"%s\"",
						dispositions, alloc->post_payment_amount, id),
				 errdetail("Of the amount " INT64_FORMAT ", " INT64_FORMAT " lowers the amount remaining and " INT64_FORMAT " credits money already paid.",
						   alloc->amount, alloc->pre_payment_amount, alloc->post_payment_amount),
				 errhint("refund_amount + credit_amount + out_of_band_amount must equal " INT64_FORMAT ".",
						 alloc->post_payment_amount)));

	refundable = row_int64(inv, "amount_refundable");
	if (alloc->refund_amount > refundable)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("refund_amount " INT64_FORMAT " exceeds the " INT64_FORMAT " still refundable on invoice \"%s\"",
						alloc->refund_amount, refundable, id),
				 errhint("Only money paid through PaymentIntents can be refunded; use out_of_band_amount for the rest.")));

	spread_refund(id, alloc);
}

/*
 * spread_refund
 *		Spread the refund over the invoice's paid PaymentIntent payments,
 *		newest first (by created, then insertion order), each up to what it
 *		still has unrefunded.  Reads stop as soon as the refund is covered.
 */
void
spread_refund(const char *invoice, CreditNoteAlloc *alloc)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	int64		left = alloc->refund_amount;
	Portal		portal;
	MemoryContext caller;

	alloc->nrefunds = 0;
	if (left == 0)
		return;
	alloc->refunds = palloc(sizeof(RefundShare) * 8);
	inv_prepare(&plan,
				"SELECT id, payment_intent, amount_paid OPERATOR(pg_catalog.-) amount_refunded"
				" FROM " INV_SCHEMA ".invoice_payments"
				" WHERE invoice" EQ "$1 AND status" EQ "'paid'"
				" AND payment_type" EQ "'payment_intent'"
				" ORDER BY created DESC, seq DESC",
				1, argtypes);
	values[0] = CStringGetTextDatum(invoice);
	/*
	 * Not read-only: a fresh snapshot, so that at READ COMMITTED the refunds
	 * are spread over the payments as committed before the invoice lock was
	 * granted, not as the statement first saw them.
	 */
	caller = CurrentMemoryContext;
	portal = SPI_cursor_open(NULL, plan, values, NULL, false);
	MemoryContextSwitchTo(caller);
	while (left > 0)
	{
		int			i;

		SPI_cursor_fetch(portal, true, 16);
		MemoryContextSwitchTo(caller);
		if (SPI_processed == 0)
			break;
		for (i = 0; i < (int) SPI_processed && left > 0; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull;
			int64		open = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
			int64		share;

			if (isnull || open <= 0)
				continue;
			share = open < left ? open : left;
			if (alloc->nrefunds > 0 && alloc->nrefunds % 8 == 0)
				alloc->refunds = repalloc(alloc->refunds,
										  sizeof(RefundShare) * (alloc->nrefunds + 8));
			alloc->refunds[alloc->nrefunds].invoice_payment = SPI_getvalue(tup, desc, 1);
			alloc->refunds[alloc->nrefunds].payment_intent = SPI_getvalue(tup, desc, 2);
			alloc->refunds[alloc->nrefunds].amount = share;
			alloc->refunds[alloc->nrefunds].refund = NULL;
			alloc->nrefunds++;
			left -= share;
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	MemoryContextSwitchTo(caller);
	if (left > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("refund_amount " INT64_FORMAT " exceeds what the payments of invoice \"%s\" can refund",
						alloc->refund_amount, invoice)));
}

/*
 * alloc_from_row
 *		The requested amounts of a credit note row.
 */
static void
alloc_from_row(Row *cn, CreditNoteAlloc *alloc)
{
	memset(alloc, 0, sizeof(*alloc));
	alloc->amount = row_int64(cn, "amount");
	alloc->refund_amount = row_int64(cn, "refund_amount");
	alloc->credit_amount = row_int64(cn, "credit_amount");
	alloc->out_of_band_amount = row_int64(cn, "out_of_band_amount");
}

/*
 * update_invoice_credits
 *		Write the credit-note accumulators of a locked invoice; its trigger
 *		derives amount_due and the status.
 */
static void
update_invoice_credits(Row *inv, int64 pre, int64 post, int64 refundable, int32 count)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[5] = {TEXTOID, INT8OID, INT8OID, INT8OID, INT4OID};
	Datum		values[5];

	inv_prepare(&plan,
				"UPDATE " INV_SCHEMA ".invoices SET pre_payment_credit_notes_amount = $2,"
				" post_payment_credit_notes_amount = $3, amount_refundable = $4,"
				" credit_note_count = $5"
				" WHERE id" EQ "$1",
				5, argtypes);
	values[0] = CStringGetTextDatum(row_text(inv, "id"));
	values[1] = Int64GetDatum(pre);
	values[2] = Int64GetDatum(post);
	values[3] = Int64GetDatum(refundable);
	values[4] = Int32GetDatum(count);
	inv_exec_internal(plan, values, NULL);
}

/*
 * write_refunds
 *		The refunds rows of a new credit note, as allocated, and the
 *		payments' refunded amounts.  The refunds reference the credit note
 *		through a deferred foreign key, so they can be written before it.
 */
static void
write_refunds(const char *cn, const char *currency, CreditNoteAlloc *alloc)
{
	static SPIPlanPtr ins = NULL;
	static SPIPlanPtr upd = NULL;
	Oid			ins_types[6] = {TEXTOID, TEXTOID, TEXTOID, INT8OID, TEXTOID, TEXTOID};
	Oid			upd_types[2] = {TEXTOID, INT8OID};
	Datum		values[6];
	int			i;

	inv_prepare(&ins,
				"INSERT INTO " INV_SCHEMA ".refunds"
				" (credit_note, invoice_payment, payment_intent, amount, currency, id)"
				" VALUES ($1, $2, $3, $4, $5, $6)",
				6, ins_types);
	inv_prepare(&upd,
				"UPDATE " INV_SCHEMA ".invoice_payments"
				" SET amount_refunded = amount_refunded OPERATOR(pg_catalog.+) $2 WHERE id" EQ "$1",
				2, upd_types);
	for (i = 0; i < alloc->nrefunds; i++)
	{
		RefundShare *r = &alloc->refunds[i];

		r->refund = generate_id("re_");
		values[0] = CStringGetTextDatum(cn);
		values[1] = CStringGetTextDatum(r->invoice_payment);
		values[2] = CStringGetTextDatum(r->payment_intent);
		values[3] = Int64GetDatum(r->amount);
		values[4] = CStringGetTextDatum(currency);
		values[5] = CStringGetTextDatum(r->refund);
		inv_exec_internal(ins, values, NULL);

		values[0] = CStringGetTextDatum(r->invoice_payment);
		values[1] = Int64GetDatum(r->amount);
		inv_exec_internal(upd, values, NULL);
	}
}

/* Columns of a credit note that only the extension writes. */
static const char *const credit_note_derived[] = {
	"customer", "currency", "number", "pre_payment_amount", "post_payment_amount",
	"type", "voided_at", "customer_balance_transaction", NULL
};

/*
 * credit_note_insert
 *		Rule C for a new credit note row: lock the invoice, allocate, write
 *		the refunds and the balance transaction, then move the invoice's
 *		accumulators (whose trigger derives amount_due and the status).
 */
static HeapTuple
credit_note_insert(TriggerData *td)
{
	Row			cn;
	Row		   *inv;
	CreditNoteAlloc alloc;
	int64		count;
	const char *const *c;
	char	   *id;
	char	   *invoice;

	row_from_tuple(&cn, td->tg_relation->rd_att, td->tg_trigtuple);
	check_id(&cn, "cn_", "credit note");
	check_metadata(NULL, &cn, "credit note");
	id = row_text(&cn, "id");
	if (!inv_internal_write())
	{
		for (c = credit_note_derived; *c != NULL; c++)
			if (!row_isnull(&cn, *c))
				ereport(ERROR,
						(errcode(ERRCODE_CHECK_VIOLATION),
						 errmsg("column \"%s\" of credit notes is maintained by invoicing and cannot be written",
								*c)));
		if (strcmp(row_enum(&cn, "status"), "issued") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("a credit note is created issued, not %s", row_enum(&cn, "status"))));
	}

	inv_connect();
	invoice = row_text(&cn, "invoice");
	inv = lock_invoice(invoice, false);
	alloc_from_row(&cn, &alloc);
	allocate_credit_note(inv, &alloc);

	count = row_int64(inv, "credit_note_count") + 1;
	row_set_int64(&cn, "seq", next_seq("credit_notes_seq"));
	row_set_text(&cn, "customer", row_text(inv, "customer"));
	row_set_text(&cn, "currency", row_text(inv, "currency"));
	row_set_text(&cn, "number", psprintf("%s-CN-%02d", row_text(inv, "number"), (int) count));
	row_set_int64(&cn, "pre_payment_amount", alloc.pre_payment_amount);
	row_set_int64(&cn, "post_payment_amount", alloc.post_payment_amount);
	row_set_enum(&cn, "type", alloc.type);

	write_refunds(id, row_text(inv, "currency"), &alloc);
	if (alloc.credit_amount > 0)
	{
		char	   *txn = generate_id("cbtxn_");

		row_set_text(&cn, "customer_balance_transaction", txn);
		insert_balance_transaction_id(txn, row_text(inv, "customer"),
									  row_text(inv, "currency"), -alloc.credit_amount,
									  "credit_note", invoice, id, NULL);
	}

	emit_credit_note_event("credit_note.created", &cn, &alloc);

	update_invoice_credits(inv,
						   add_amounts(row_int64(inv, "pre_payment_credit_notes_amount"),
									   alloc.pre_payment_amount),
						   add_amounts(row_int64(inv, "post_payment_credit_notes_amount"),
									   alloc.post_payment_amount),
						   sub_amounts(row_int64(inv, "amount_refundable"), alloc.refund_amount),
						   (int32) count);
	inv_finish();
	return row_to_tuple(&cn);
}

/*
 * void_credit_note
 *		Rule CV on the row being updated from issued to void: only while the
 *		invoice is open; the pre part goes back onto amount_due.
 */
static void
void_credit_note(Row *oldrow, Row *newrow)
{
	char	   *id = row_text(oldrow, "id");
	Row		   *inv;
	char	   *status;
	int64		pre = row_int64(oldrow, "pre_payment_amount");
	int64		post = row_int64(oldrow, "post_payment_amount");

	inv_connect();
	inv = lock_invoice(row_text(oldrow, "invoice"), false);
	status = row_enum(inv, "status");
	if (strcmp(status, "open") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot void credit note \"%s\": its invoice \"%s\" is %s",
						id, row_text(inv, "id"), status),
				 errhint("Only the credit notes of an open invoice can be voided.")));
	if (post != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot void credit note \"%s\": its post-payment amount " INT64_FORMAT " has been refunded or credited",
						id, post)));
	row_set(newrow, "voided_at", TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
			false);
	emit_credit_note_event("credit_note.voided", newrow, NULL);
	update_invoice_credits(inv,
						   sub_amounts(row_int64(inv, "pre_payment_credit_notes_amount"), pre),
						   row_int64(inv, "post_payment_credit_notes_amount"),
						   row_int64(inv, "amount_refundable"),
						   (int32) row_int64(inv, "credit_note_count"));
	inv_finish();
}

PG_FUNCTION_INFO_V1(invoicing_credit_notes_trigger);

/*
 * credit_notes trigger (BEFORE INSERT OR UPDATE OR DELETE)
 *
 * Insert is rule C; setting status 'void' is rule CV; memo and metadata may
 * change; everything else is fixed; credit notes are never deleted.
 */
Datum
invoicing_credit_notes_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = trigger_data(fcinfo, "credit_notes_trigger");
	TupleDesc	desc = td->tg_relation->rd_att;
	Row			oldrow;
	Row			newrow;

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		return PointerGetDatum(credit_note_insert(td));

	row_from_tuple(&oldrow, desc, td->tg_trigtuple);
	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("credit note \"%s\" cannot be deleted", row_text(&oldrow, "id")),
				 errhint("Void it with invoicing.void_credit_note().")));

	row_from_tuple(&newrow, desc, td->tg_newtuple);
	if (inv_internal_write())
		return PointerGetDatum(td->tg_newtuple);
	{
		static const char *const allowed[] = {"memo", "metadata", "status", NULL};

		refuse_changes_except(&oldrow, &newrow, allowed, "credit note",
							  row_text(&oldrow, "id"));
	}
	check_metadata(&oldrow, &newrow, "credit note");
	if (!row_same(&oldrow, &newrow, "status"))
	{
		if (strcmp(row_enum(&newrow, "status"), "void") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot change credit note \"%s\" from %s to %s",
							row_text(&oldrow, "id"), row_enum(&oldrow, "status"),
							row_enum(&newrow, "status"))));
		void_credit_note(&oldrow, &newrow);
	}
	return PointerGetDatum(row_to_tuple(&newrow));
}

PG_FUNCTION_INFO_V1(invoicing_refunds_trigger);

/*
 * refunds trigger (BEFORE INSERT OR UPDATE OR DELETE)
 *		Refunds are written by credit notes only and never change.
 */
Datum
invoicing_refunds_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = trigger_data(fcinfo, "refunds_trigger");
	Row			row;

	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		row_from_tuple(&row, td->tg_relation->rd_att, td->tg_trigtuple);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("refund \"%s\" cannot be deleted", row_text(&row, "id"))));
	}
	if (!inv_internal_write())
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("refunds are written by invoicing only"),
				 errhint("Create a credit note with a refund_amount.")));
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		return PointerGetDatum(td->tg_newtuple);
	row_from_tuple(&row, td->tg_relation->rd_att, td->tg_trigtuple);
	check_id(&row, "re_", "refund");
	return PointerGetDatum(row_to_tuple(&row));
}

PG_FUNCTION_INFO_V1(invoicing_preview_credit_note);

/*
 * invoicing.preview_credit_note(invoice, amount, refund_amount, credit_amount,
 *		out_of_band_amount, reason, memo) returns jsonb
 *
 * What create_credit_note would create, writing nothing: the same
 * allocation against the invoice as it is now.
 */
Datum
invoicing_preview_credit_note(PG_FUNCTION_ARGS)
{
	CreditNoteAlloc alloc;
	Row		   *inv;
	char	   *invoice;
	CreditNoteView view;
	int			i;

	require_arg(fcinfo, 0, "invoice");
	require_arg(fcinfo, 1, "amount");
	require_arg(fcinfo, 2, "refund_amount");
	require_arg(fcinfo, 3, "credit_amount");
	require_arg(fcinfo, 4, "out_of_band_amount");
	if (!PG_ARGISNULL(5))
		check_enum_arg("credit_note_reason", arg_text(fcinfo, 5, "reason"), "reason");
	invoice = text_datum_cstring(PG_GETARG_DATUM(0));

	memset(&alloc, 0, sizeof(alloc));
	alloc.amount = PG_GETARG_INT64(1);
	alloc.refund_amount = PG_GETARG_INT64(2);
	alloc.credit_amount = PG_GETARG_INT64(3);
	alloc.out_of_band_amount = PG_GETARG_INT64(4);

	inv_connect();
	inv = read_invoice(invoice);
	allocate_credit_note(inv, &alloc);
	inv_finish();

	/* ids of the refunds and transaction it would create, as Stripe shows */
	for (i = 0; i < alloc.nrefunds; i++)
		alloc.refunds[i].refund = generate_id("re_");

	memset(&view, 0, sizeof(view));
	view.id = generate_id("cn_");
	view.invoice = invoice;
	view.customer = row_text(inv, "customer");
	view.currency = row_text(inv, "currency");
	view.number = psprintf("%s-CN-%02d", row_text(inv, "number"),
						   (int) row_int64(inv, "credit_note_count") + 1);
	view.memo = PG_ARGISNULL(6) ? NULL : text_datum_cstring(PG_GETARG_DATUM(6));
	view.reason = PG_ARGISNULL(5) ? NULL : text_datum_cstring(PG_GETARG_DATUM(5));
	view.status = "issued";
	view.created = GetCurrentTransactionStartTimestamp();
	view.has_voided_at = false;
	view.alloc = alloc;
	view.customer_balance_transaction =
		alloc.credit_amount > 0 ? generate_id("cbtxn_") : NULL;
	PG_RETURN_DATUM(credit_note_view_jsonb(&view));
}

PG_FUNCTION_INFO_V1(invoicing_create_credit_note);

/*
 * invoicing.create_credit_note(invoice text, amount bigint, refund_amount
 *		bigint, credit_amount bigint, out_of_band_amount bigint, reason text,
 *		memo text) returns jsonb
 *
 * Rule C, in the credit_notes trigger.
 */
Datum
invoicing_create_credit_note(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[7] = {TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID, TEXTOID, TEXTOID};
	Datum		values[7];
	char		nulls[7];
	char	   *id;

	require_arg(fcinfo, 0, "invoice");
	require_arg(fcinfo, 1, "amount");
	require_arg(fcinfo, 2, "refund_amount");
	require_arg(fcinfo, 3, "credit_amount");
	require_arg(fcinfo, 4, "out_of_band_amount");
	if (!PG_ARGISNULL(5))
		check_enum_arg("credit_note_reason", arg_text(fcinfo, 5, "reason"), "reason");
	args_to_params(fcinfo, 7, values, nulls);
	id = exec_returning_id(&plan,
						   "INSERT INTO " INV_SCHEMA ".credit_notes"
						   " (invoice, amount, refund_amount, credit_amount, out_of_band_amount,"
						   " reason, memo)"
						   " VALUES ($1, $2, $3, $4, $5, $6::" INV_SCHEMA ".credit_note_reason, $7)"
						   " RETURNING id",
						   7, argtypes, values, nulls);
	PG_RETURN_DATUM(object_jsonb(OBJ_CREDIT_NOTE, id, true));
}

PG_FUNCTION_INFO_V1(invoicing_void_credit_note);

/*
 * invoicing.void_credit_note(credit_note text) returns jsonb
 *
 * Rule CV, in the credit_notes trigger; voiding a void note again is
 * refused (55000).
 */
Datum
invoicing_void_credit_note(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr lock = NULL;
	static SPIPlanPtr upd = NULL;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	char	   *cn = arg_text(fcinfo, 0, "credit_note");
	char	   *status;

	values[0] = PG_GETARG_DATUM(0);
	inv_connect();
	inv_prepare(&lock,
				"SELECT status FROM " INV_SCHEMA ".credit_notes WHERE id" EQ "$1 FOR UPDATE",
				1, argtypes);
	inv_exec(lock, values, NULL, false, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no such credit note: \"%s\"", cn)));
	status = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (strcmp(status, "void") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot void credit note \"%s\": it is already void", cn)));
	inv_prepare(&upd,
				"UPDATE " INV_SCHEMA ".credit_notes SET status = 'void' WHERE id" EQ "$1",
				1, argtypes);
	inv_exec(upd, values, NULL, false, 0);
	inv_finish();
	PG_RETURN_DATUM(object_jsonb(OBJ_CREDIT_NOTE, cn, true));
}
