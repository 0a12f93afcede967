/*-------------------------------------------------------------------------
 *
 * invoices.c
 *		Invoices and their lines: totals (invariant 1), the balance fields
 *		(invariants 2, 3, 7), finalization (rule F), void and uncollectible
 *		(rule V).
 *
 * The invoice's BEFORE trigger derives every balance field from four
 * accumulators kept on the row itself: total, starting_balance,
 * pre_payment_credit_notes_amount and amount_paid.  Lines, payments and
 * credit notes change an accumulator by their own amount (never by
 * re-summing), so the cost of a change does not grow with the invoice's
 * history.  Because the accumulators live on the invoice row, every writer
 * that depends on them locks that row first; at REPEATABLE READ and
 * SERIALIZABLE a concurrent change is a serialization failure.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "fmgr.h"
#include "utils/lsyscache.h"
#include "utils/builtins.h"

#include "invoicing.h"

/* Columns only the extension writes. */
static const char *const invoice_derived[] = {
	"subtotal", "total", "starting_balance", "ending_balance", "amount_due",
	"amount_paid", "amount_remaining", "amount_overpaid",
	"pre_payment_credit_notes_amount", "post_payment_credit_notes_amount",
	"open_payment_count", "paid_payment_count", "finalized_at", "paid_at",
	"voided_at", "marked_uncollectible_at", "credit_note_count",
	"amount_refundable", NULL
};

/*
 * lock_invoice
 *		Lock an invoice row and return it.  Caller is connected to SPI.
 *		A missing invoice is P0002 unless missing_ok (then NULL).
 */
Row *
lock_invoice(const char *invoice, bool missing_ok)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];

	if (invoice == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("invoice must not be null")));
	inv_prepare(&plan,
				"SELECT * FROM " INV_SCHEMA ".invoices WHERE id" EQ "$1 FOR UPDATE",
				1, argtypes);
	values[0] = CStringGetTextDatum(invoice);
	inv_exec(plan, values, NULL, false, 1);
	if (SPI_processed == 0)
	{
		if (missing_ok)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no such invoice: \"%s\"", invoice)));
	}
	return spi_row(0);
}

/*
 * read_invoice
 *		An invoice row without locking it (for previews).  Caller is
 *		connected to SPI.
 */
Row *
read_invoice(const char *invoice)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];

	inv_prepare(&plan,
				"SELECT * FROM " INV_SCHEMA ".invoices WHERE id" EQ "$1",
				1, argtypes);
	values[0] = CStringGetTextDatum(invoice);
	inv_exec(plan, values, NULL, true, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no such invoice: \"%s\"", invoice)));
	return spi_row(0);
}

/*
 * update_invoice_payments
 *		Write the payment accumulators of a locked invoice; its trigger
 *		derives the rest.  refundable_delta moves amount_refundable (the
 *		PaymentIntent money a credit note may still refund), where the
 *		database's version of the extension has it.  Caller is connected to
 *		SPI.
 */
void
update_invoice_payments(Row *inv, int64 amount_paid, int32 open_count,
						int32 paid_count, int64 refundable_delta)
{
	static SPIPlanPtr plan = NULL;
	static SPIPlanPtr plan01 = NULL;
	Oid			argtypes[5] = {TEXTOID, INT8OID, INT4OID, INT4OID, INT8OID};
	Datum		values[5];
	bool		has_refundable = row_has(inv, "amount_refundable");

	if (has_refundable)
		inv_prepare(&plan,
					"UPDATE " INV_SCHEMA ".invoices SET amount_paid = $2,"
					" open_payment_count = $3, paid_payment_count = $4,"
					" amount_refundable = $5"
					" WHERE id" EQ "$1",
					5, argtypes);
	else
		inv_prepare(&plan01,
					"UPDATE " INV_SCHEMA ".invoices SET amount_paid = $2,"
					" open_payment_count = $3, paid_payment_count = $4"
					" WHERE id" EQ "$1",
					4, argtypes);
	values[0] = CStringGetTextDatum(row_text(inv, "id"));
	values[1] = Int64GetDatum(amount_paid);
	values[2] = Int32GetDatum(open_count);
	values[3] = Int32GetDatum(paid_count);
	values[4] = Int64GetDatum(has_refundable ?
							  add_amounts(row_int64(inv, "amount_refundable"),
										  refundable_delta) : 0);
	inv_exec_internal(has_refundable ? plan : plan01, values, NULL);
}

/*
 * add_to_invoice_payments
 *		Move the payment accumulators of an invoice by the given steps in one
 *		UPDATE, which takes the invoice's row lock itself (at READ COMMITTED
 *		it applies the steps to the newest version of the row; bigint
 *		arithmetic that overflows is 22003).  For a payment that is settled
 *		without reading the invoice first.  Caller is connected to SPI.
 */
void
add_to_invoice_payments(const char *invoice, int64 paid, int32 open_step,
						int32 paid_step, int64 refundable_step)
{
	static SPIPlanPtr plan = NULL;
	static SPIPlanPtr plan01 = NULL;
	Oid			argtypes[5] = {TEXTOID, INT8OID, INT4OID, INT4OID, INT8OID};
	Datum		values[5];
	Oid			relid = get_relname_relid("invoices", get_namespace_oid(INV_SCHEMA, false));
	bool		has_refundable = get_attnum(relid, "amount_refundable") != InvalidAttrNumber;

	if (has_refundable)
		inv_prepare(&plan,
					"UPDATE " INV_SCHEMA ".invoices"
					" SET amount_paid = amount_paid OPERATOR(pg_catalog.+) $2,"
					" open_payment_count = open_payment_count OPERATOR(pg_catalog.+) $3,"
					" paid_payment_count = paid_payment_count OPERATOR(pg_catalog.+) $4,"
					" amount_refundable = amount_refundable OPERATOR(pg_catalog.+) $5"
					" WHERE id" EQ "$1",
					5, argtypes);
	else
		inv_prepare(&plan01,
					"UPDATE " INV_SCHEMA ".invoices"
					" SET amount_paid = amount_paid OPERATOR(pg_catalog.+) $2,"
					" open_payment_count = open_payment_count OPERATOR(pg_catalog.+) $3,"
					" paid_payment_count = paid_payment_count OPERATOR(pg_catalog.+) $4"
					" WHERE id" EQ "$1",
					4, argtypes);
	values[0] = CStringGetTextDatum(invoice);
	values[1] = Int64GetDatum(paid);
	values[2] = Int32GetDatum(open_step);
	values[3] = Int32GetDatum(paid_step);
	values[4] = Int64GetDatum(refundable_step);
	inv_exec_internal(has_refundable ? plan : plan01, values, NULL);
}

/*
 * update_invoice_total
 *		Write the total (and subtotal) of a locked draft.
 */
static void
update_invoice_total(const char *invoice, int64 total)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[2] = {TEXTOID, INT8OID};
	Datum		values[2];

	inv_prepare(&plan,
				"UPDATE " INV_SCHEMA ".invoices SET total = $2, subtotal = $2"
				" WHERE id" EQ "$1",
				2, argtypes);
	values[0] = CStringGetTextDatum(invoice);
	values[1] = Int64GetDatum(total);
	inv_exec_internal(plan, values, NULL);
}

/*
 * next_invoice_number
 *		A new unique invoice number.
 */
static char *
next_invoice_number(void)
{
	static SPIPlanPtr plan = NULL;
	bool		isnull;
	int64		n;

	inv_prepare(&plan,
				"SELECT pg_catalog.nextval('" INV_SCHEMA ".invoice_number_seq')",
				0, NULL);
	inv_exec(plan, NULL, NULL, false, 1);
	n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									1, &isnull));
	return psprintf("INV-%06lld", (long long) n);
}

/*
 * derive_invoice
 *		Recompute the derived balance fields of an invoice row from its
 *		accumulators (invariants 2, 3 and 7), and mark it paid when a
 *		finalized, collectible invoice has nothing left to pay.
 */
static void
derive_invoice(Row *inv, TimestampTz now)
{
	char	   *status = row_enum(inv, "status");
	int64		total = row_int64(inv, "total");
	int64		paid = row_int64(inv, "amount_paid");
	int64		due;
	int64		remaining;
	int64		overpaid;

	row_set_int64(inv, "subtotal", total);
	if (strcmp(status, "draft") == 0)
	{
		row_set_int64(inv, "amount_due", total);
		row_set_int64(inv, "amount_remaining", total > 0 ? total : 0);
		row_set_int64(inv, "amount_overpaid", 0);
		return;
	}

	due = add_amounts(total, row_int64(inv, "starting_balance"));
	if (due < 0)
		due = 0;
	due = sub_amounts(due, row_int64(inv, "pre_payment_credit_notes_amount"));
	remaining = sub_amounts(due, paid);
	overpaid = sub_amounts(paid, due);
	row_set_int64(inv, "amount_due", due);
	row_set_int64(inv, "amount_remaining", remaining > 0 ? remaining : 0);
	row_set_int64(inv, "amount_overpaid", overpaid > 0 ? overpaid : 0);

	if (remaining <= 0 &&
		(strcmp(status, "open") == 0 || strcmp(status, "uncollectible") == 0))
	{
		row_set_enum(inv, "status", "paid");
		row_set(inv, "paid_at", TimestampTzGetDatum(now), false);
	}
}

/*
 * finalize_invoice
 *		Rule F, on the row being updated from draft to open: apply the
 *		customer's balance in the invoice currency, assign a number.
 */
static void
finalize_invoice(Row *inv, TimestampTz now)
{
	char	   *id = row_text(inv, "id");
	char	   *customer = row_text(inv, "customer");
	char	   *currency = row_text(inv, "currency");
	int64		total = row_int64(inv, "total");
	int64		balance;
	int64		after;
	int64		ending;

	if (total < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot finalize invoice \"%s\": its total " INT64_FORMAT " is negative",
						id, total),
				 errhint("Discount lines cannot take an invoice below zero.")));

	balance = lock_customer_balance(customer, currency);
	after = add_amounts(total, balance);
	ending = after < 0 ? after : 0;

	row_set_int64(inv, "starting_balance", balance);
	row_set_int64(inv, "ending_balance", ending);
	row_set(inv, "finalized_at", TimestampTzGetDatum(now), false);
	if (row_isnull(inv, "number"))
		row_set_text(inv, "number", next_invoice_number());

	if (ending != balance)
		insert_balance_transaction(customer, currency, sub_amounts(ending, balance),
								   "applied_to_invoice", id, NULL, NULL);
}

/*
 * void_invoice
 *		Rule V for void: no open or paid payment; the balance applied at
 *		finalization goes back to the customer.
 */
static void
void_invoice(Row *inv, TimestampTz now)
{
	char	   *id = row_text(inv, "id");
	int64		nopen = row_int64(inv, "open_payment_count");
	int64		npaid = row_int64(inv, "paid_payment_count");
	int64		applied;

	if (nopen > 0 || npaid > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot void invoice \"%s\": it has " INT64_FORMAT " open and " INT64_FORMAT " paid payments",
						id, nopen, npaid),
				 errhint("Cancel the open PaymentIntents first; an invoice with paid payments cannot be voided.")));

	applied = sub_amounts(row_int64(inv, "ending_balance"),
						  row_int64(inv, "starting_balance"));
	if (applied != 0)
		insert_balance_transaction(row_text(inv, "customer"), row_text(inv, "currency"),
								   -applied, "unapplied_from_invoice", id, NULL, NULL);
	row_set(inv, "voided_at", TimestampTzGetDatum(now), false);
}

/*
 * mark_uncollectible
 *		Rule V for uncollectible: no open payment.
 */
static void
mark_uncollectible(Row *inv, TimestampTz now)
{
	int64		nopen = row_int64(inv, "open_payment_count");

	if (nopen > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot mark invoice \"%s\" uncollectible: it has " INT64_FORMAT " open payments",
						row_text(inv, "id"), nopen),
				 errhint("Cancel the open PaymentIntents first.")));
	row_set(inv, "marked_uncollectible_at", TimestampTzGetDatum(now), false);
}

/*
 * change_status
 *		A status change asked for by a writer.  Returns quietly when the
 *		status does not change (DML that sets the current status changes
 *		nothing).
 */
static void
change_status(Row *oldrow, Row *newrow, TimestampTz now)
{
	char	   *id = row_text(oldrow, "id");
	char	   *from = row_enum(oldrow, "status");
	char	   *to = row_enum(newrow, "status");

	if (strcmp(from, to) == 0)
		return;
	if (strcmp(to, "paid") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("cannot set invoice \"%s\" to paid: the status paid is derived from its payments",
						id),
				 errhint("Use invoicing.pay_invoice() or attach a payment.")));
	if (strcmp(from, "draft") == 0 && strcmp(to, "open") == 0)
		finalize_invoice(newrow, now);
	else if (strcmp(to, "void") == 0 &&
			 (strcmp(from, "open") == 0 || strcmp(from, "uncollectible") == 0))
		void_invoice(newrow, now);
	else if (strcmp(from, "open") == 0 && strcmp(to, "uncollectible") == 0)
		mark_uncollectible(newrow, now);
	else
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot change invoice \"%s\" from %s to %s", id, from, to)));
}

/*
 * invoice_insert
 *		A new invoice is a draft with every derived column at its start.
 */
static HeapTuple
invoice_insert(TriggerData *td)
{
	Row			inv;
	char	   *status;
	const char *const *c;

	row_from_tuple(&inv, td->tg_relation->rd_att, td->tg_trigtuple);
	check_id(&inv, "in_", "invoice");
	check_currency(row_text(&inv, "currency"));
	check_metadata(NULL, &inv, "invoice");
	status = row_enum(&inv, "status");

	if (!inv_internal_write())
	{
		if (strcmp(status, "paid") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("invoice \"%s\" cannot be created paid: the status paid is derived from its payments",
							row_text(&inv, "id"))));
		if (strcmp(status, "draft") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("invoice \"%s\" must be created as a draft, not %s",
							row_text(&inv, "id"), status),
					 errhint("Finalize it with invoicing.finalize_invoice().")));
		for (c = invoice_derived; *c != NULL; c++)
		{
			int			i;

			if (!row_has(&inv, *c))
				continue;
			i = row_attnum(&inv, *c);
			if (!inv.nulls[i] &&
				(strcmp(*c, "ending_balance") == 0 || strstr(*c, "_at") != NULL ||
				 row_int64(&inv, *c) != 0))
				ereport(ERROR,
						(errcode(ERRCODE_CHECK_VIOLATION),
						 errmsg("column \"%s\" of invoice \"%s\" is maintained by invoicing and cannot be written",
								*c, row_text(&inv, "id"))));
		}
	}

	inv_connect();
	require_customer(row_text(&inv, "customer"));
	inv_finish();

	derive_invoice(&inv, GetCurrentTransactionStartTimestamp());
	return row_to_tuple(&inv);
}

/*
 * credit_overpayment
 *		Rule P: when amount_overpaid grows, the growth is credited to the
 *		customer (an invoice_overpaid transaction).
 */
static void
credit_overpayment(Row *oldrow, Row *newrow)
{
	int64		growth = sub_amounts(row_int64(newrow, "amount_overpaid"),
									 row_int64(oldrow, "amount_overpaid"));

	if (growth <= 0)
		return;
	inv_connect();
	insert_balance_transaction(row_text(newrow, "customer"), row_text(newrow, "currency"),
							   -growth, "invoice_overpaid", row_text(newrow, "id"),
							   NULL, NULL);
	inv_finish();
}

/*
 * invoice_update
 *		Writers may change what a draft says and ask for status changes; the
 *		extension writes the accumulators.  Either way the derived fields are
 *		recomputed here.
 */
static HeapTuple
invoice_update(TriggerData *td)
{
	TupleDesc	desc = td->tg_relation->rd_att;
	Row			oldrow;
	Row			newrow;
	char	   *id;
	char	   *oldstatus;
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	row_from_tuple(&oldrow, desc, td->tg_trigtuple);
	row_from_tuple(&newrow, desc, td->tg_newtuple);
	id = row_text(&oldrow, "id");
	oldstatus = row_enum(&oldrow, "status");

	if (!inv_internal_write())
	{
		refuse_derived_change(&oldrow, &newrow, invoice_derived, "invoice", id);
		if (!row_same(&oldrow, &newrow, "id") || !row_same(&oldrow, &newrow, "created"))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the id and creation time of invoice \"%s\" cannot be changed", id)));
		if (strcmp(oldstatus, "draft") != 0 &&
			(!row_same(&oldrow, &newrow, "customer") ||
			 !row_same(&oldrow, &newrow, "currency") ||
			 !row_same(&oldrow, &newrow, "collection_method") ||
			 !row_same(&oldrow, &newrow, "number")))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot change the customer, currency, collection method or number of invoice \"%s\": it is %s",
							id, oldstatus),
					 errhint("Only a draft can be edited.")));
		if (!row_same(&oldrow, &newrow, "currency"))
			check_currency(row_text(&newrow, "currency"));
		check_metadata(&oldrow, &newrow, "invoice");

		inv_connect();
		if (!row_same(&oldrow, &newrow, "customer"))
			require_customer(row_text(&newrow, "customer"));
		change_status(&oldrow, &newrow, now);
		inv_finish();
	}

	derive_invoice(&newrow, now);
	credit_overpayment(&oldrow, &newrow);
	emit_invoice_events(&oldrow, &newrow);
	return row_to_tuple(&newrow);
}

PG_FUNCTION_INFO_V1(invoicing_invoices_trigger);

/*
 * invoices trigger (BEFORE INSERT OR UPDATE OR DELETE)
 */
Datum
invoicing_invoices_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = trigger_data(fcinfo, "invoices_trigger");

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		return PointerGetDatum(invoice_insert(td));
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		return PointerGetDatum(invoice_update(td));

	/* DELETE: rule V, drafts only */
	{
		Row			oldrow;
		char	   *status;

		row_from_tuple(&oldrow, td->tg_relation->rd_att, td->tg_trigtuple);
		status = row_enum(&oldrow, "status");
		if (strcmp(status, "draft") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot delete invoice \"%s\": it is %s",
							row_text(&oldrow, "id"), status),
					 errhint("Only a draft can be deleted; void a finalized invoice instead.")));
		return PointerGetDatum(td->tg_trigtuple);
	}
}

/*
 * line_amount
 *		quantity x unit_amount (invariant 1), checked.
 */
static int64
line_amount(Row *line)
{
	int64		quantity = row_int64(line, "quantity");

	if (quantity <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid quantity " INT64_FORMAT " for a line of invoice \"%s\"",
						quantity, row_text(line, "invoice")),
				 errhint("The quantity must be at least 1.")));
	return mul_amount(quantity, row_int64(line, "unit_amount"));
}

/*
 * lock_draft
 *		Lock a line's invoice, which must be a draft.  NULL when it is gone
 *		(its own deletion cascading to its lines).
 */
static Row *
lock_draft(const char *invoice, bool missing_ok)
{
	Row		   *inv = lock_invoice(invoice, missing_ok);
	char	   *status;

	if (inv == NULL)
		return NULL;
	status = row_enum(inv, "status");
	if (strcmp(status, "draft") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot change the lines of invoice \"%s\": it is %s", invoice, status),
				 errhint("Only a draft's lines can change.")));
	return inv;
}

PG_FUNCTION_INFO_V1(invoicing_invoice_lines_trigger);

/*
 * invoice_lines trigger (BEFORE INSERT OR UPDATE OR DELETE)
 *		Lines change only on drafts; each change moves the invoice total by
 *		the line's own difference.
 */
Datum
invoicing_invoice_lines_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = trigger_data(fcinfo, "invoice_lines_trigger");
	TupleDesc	desc = td->tg_relation->rd_att;
	Row			oldrow;
	Row			newrow;
	Row		   *inv;
	HeapTuple	result;
	int64		removed = 0;
	int64		added = 0;

	inv_connect();
	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		row_from_tuple(&oldrow, desc, td->tg_trigtuple);
		inv = lock_draft(row_text(&oldrow, "invoice"), true);
		if (inv != NULL)
			removed = row_int64(&oldrow, "amount");
		result = td->tg_trigtuple;
	}
	else
	{
		int64		amount;

		row_from_tuple(&newrow, desc,
					   TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple);
		if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		{
			check_id(&newrow, "il_", "invoice line");
			if (!inv_internal_write() && row_int64(&newrow, "amount") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_CHECK_VIOLATION),
						 errmsg("column \"amount\" of invoice lines is maintained by invoicing and cannot be written"),
						 errhint("Set quantity and unit_amount.")));
		}
		else
		{
			row_from_tuple(&oldrow, desc, td->tg_trigtuple);
			if (!row_same(&oldrow, &newrow, "id") || !row_same(&oldrow, &newrow, "invoice"))
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("the id and invoice of invoice line \"%s\" cannot be changed",
								row_text(&oldrow, "id"))));
			if (!inv_internal_write() && !row_same(&oldrow, &newrow, "amount"))
				ereport(ERROR,
						(errcode(ERRCODE_CHECK_VIOLATION),
						 errmsg("column \"amount\" of invoice lines is maintained by invoicing and cannot be written")));
		}
		inv = lock_draft(row_text(&newrow, "invoice"), false);
		amount = line_amount(&newrow);
		row_set_int64(&newrow, "amount", amount);
		added = amount;
		if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
			removed = row_int64(&oldrow, "amount");
		result = row_to_tuple(&newrow);
	}

	/*
	 * The total moves by this line's own amounts: the old one out, the new
	 * one in (no negation, which could wrap at the smallest bigint).
	 */
	if (inv != NULL && (removed != 0 || added != 0))
		update_invoice_total(row_text(inv, "id"),
							 add_amounts(sub_amounts(row_int64(inv, "total"), removed),
										 added));
	inv_finish();
	return PointerGetDatum(result);
}

PG_FUNCTION_INFO_V1(invoicing_create_invoice);

/*
 * invoicing.create_invoice(customer text, currency text,
 *		collection_method text, id text) returns text
 */
Datum
invoicing_create_invoice(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4];

	require_arg(fcinfo, 0, "customer");
	require_arg(fcinfo, 1, "currency");
	check_enum_arg("collection_method", arg_text(fcinfo, 2, "collection_method"),
				   "collection_method");
	args_to_params(fcinfo, 4, values, nulls);
	PG_RETURN_TEXT_P(cstring_to_text(exec_returning_id(&plan,
													   "INSERT INTO " INV_SCHEMA ".invoices (customer, currency, collection_method, id)"
													   " VALUES ($1, $2, $3::" INV_SCHEMA ".collection_method, $4)"
													   " RETURNING id",
													   4, argtypes, values, nulls)));
}

PG_FUNCTION_INFO_V1(invoicing_add_invoice_line);

/*
 * invoicing.add_invoice_line(invoice text, unit_amount bigint,
 *		quantity integer, description text) returns text
 */
Datum
invoicing_add_invoice_line(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[4] = {TEXTOID, INT8OID, INT4OID, TEXTOID};
	Datum		values[4];
	char		nulls[4];

	require_arg(fcinfo, 0, "invoice");
	require_arg(fcinfo, 1, "unit_amount");
	require_arg(fcinfo, 2, "quantity");
	args_to_params(fcinfo, 4, values, nulls);
	PG_RETURN_TEXT_P(cstring_to_text(exec_returning_id(&plan,
													   "INSERT INTO " INV_SCHEMA ".invoice_lines (invoice, unit_amount, quantity, description)"
													   " VALUES ($1, $2, $3, $4) RETURNING id",
													   4, argtypes, values, nulls)));
}

/*
 * set_invoice_status
 *		The status-changing functions: lock the invoice, refuse a repeated
 *		change (SPEC 4: what DML treats as a no-op, the functions refuse),
 *		then ask for the change as any writer would, so the trigger applies
 *		the rule.  Returns the invoice.
 */
static Datum
set_invoice_status(FunctionCallInfo fcinfo, const char *target, const char *action)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	char	   *invoice = arg_text(fcinfo, 0, "invoice");
	Row		   *inv;

	inv_connect();
	inv = lock_invoice(invoice, false);
	if (strcmp(row_enum(inv, "status"), target) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot %s invoice \"%s\": it is already %s", action, invoice, target)));
	inv_prepare(&plan,
				"UPDATE " INV_SCHEMA ".invoices SET status = $2::" INV_SCHEMA ".invoice_status"
				" WHERE id" EQ "$1",
				2, argtypes);
	values[0] = CStringGetTextDatum(invoice);
	values[1] = CStringGetTextDatum(target);
	inv_exec(plan, values, NULL, false, 0);
	inv_finish();
	return invoice_jsonb(invoice, false, true);
}

PG_FUNCTION_INFO_V1(invoicing_finalize_invoice);

/*
 * invoicing.finalize_invoice(invoice text) returns jsonb: rule F
 */
Datum
invoicing_finalize_invoice(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(set_invoice_status(fcinfo, "open", "finalize"));
}

PG_FUNCTION_INFO_V1(invoicing_void_invoice);

/*
 * invoicing.void_invoice(invoice text) returns jsonb: rule V
 */
Datum
invoicing_void_invoice(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(set_invoice_status(fcinfo, "void", "void"));
}

PG_FUNCTION_INFO_V1(invoicing_mark_uncollectible);

/*
 * invoicing.mark_uncollectible(invoice text) returns jsonb: rule V
 */
Datum
invoicing_mark_uncollectible(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(set_invoice_status(fcinfo, "uncollectible", "mark uncollectible"));
}
