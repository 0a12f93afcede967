/*-------------------------------------------------------------------------
 *
 * payments.c
 *		PaymentIntents (rule P), attaching them to invoices (rule A),
 *		out-of-band payments (rule O) and the invoice payments they make
 *		(invariant 6).
 *
 * Lock order, everywhere: PaymentIntent, then its payments, then invoice,
 * then customer balance (a credit note, which starts at the invoice, only
 * touches payments that are already paid, which no PaymentIntent changes).
 * Attaching writes the PaymentIntent row (its invoice column) and
 * the invoice row (its payment counters), and crediting writes both too, so
 * two transactions that race on either always conflict on a row: at READ
 * COMMITTED the second waits and sees the first's result, at REPEATABLE READ
 * and SERIALIZABLE it gets a serialization failure.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "invoicing.h"

/*
 * lock_payment_intent
 *		Lock a PaymentIntent and return it (P0002 when missing).  The caller
 *		has refused a NULL id.
 */
static Row *
lock_payment_intent(const char *pi)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];

	inv_prepare(&plan,
				"SELECT * FROM " INV_SCHEMA ".payment_intents WHERE id" EQ "$1 FOR UPDATE",
				1, argtypes);
	values[0] = CStringGetTextDatum(pi);
	inv_exec(plan, values, NULL, false, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no such payment_intent: \"%s\"", pi)));
	return spi_row(0);
}

/*
 * claim_payment_intent
 *		Record on an unattached PaymentIntent the invoice it is being
 *		attached to, locking it, and return it as it was read (its invoice
 *		column still NULL); NULL when it is missing or already attached (the
 *		caller then reads it with lock_payment_intent).  One statement for
 *		the lock and the write of the common case; a failed check after it
 *		rolls the write back with the rest of the attach.
 */
static Row *
claim_payment_intent(const char *pi, const char *invoice)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	Row		   *row;

	inv_prepare(&plan,
				"UPDATE " INV_SCHEMA ".payment_intents SET invoice = $2"
				" WHERE id" EQ "$1 AND invoice IS NULL RETURNING *",
				2, argtypes);
	values[0] = CStringGetTextDatum(pi);
	values[1] = CStringGetTextDatum(invoice);
	inv_exec_internal(plan, values, NULL);
	if (SPI_processed == 0)
		return NULL;
	row = spi_row(0);
	row_set(row, "invoice", (Datum) 0, true);
	return row;
}

/*
 * credit_invoice
 *		Move a locked invoice's payment accumulators: amount_paid grows by
 *		'paid', the open and paid payment counts by the given steps.  Money
 *		paid through a PaymentIntent can later be refunded by a credit note;
 *		out-of-band money cannot (it goes back out of band).
 */
static void
credit_invoice(Row *inv, int64 paid, int open_step, int paid_step,
			   bool refundable)
{
	update_invoice_payments(inv,
							add_amounts(row_int64(inv, "amount_paid"), paid),
							(int32) (row_int64(inv, "open_payment_count") + open_step),
							(int32) (row_int64(inv, "paid_payment_count") + paid_step),
							refundable ? paid : 0);
}

/*
 * require_collectible
 *		The invoice accepts payments: open or uncollectible (55000).
 */
static void
require_collectible(Row *inv, const char *what)
{
	char	   *status = row_enum(inv, "status");

	if (strcmp(status, "open") != 0 && strcmp(status, "uncollectible") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot %s invoice \"%s\": it is %s",
						what, row_text(inv, "id"), status),
				 errhint("Payments can be added to open or uncollectible invoices only.")));
}

/*
 * set_payment_currency
 *		A payment is in its invoice's currency.
 */
static void
set_payment_currency(Row *pay, Row *inv)
{
	char	   *currency = row_text(inv, "currency");

	if (!row_isnull(pay, "currency") && strcmp(row_text(pay, "currency"), currency) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("payment currency %s does not match the currency %s of invoice \"%s\"",
						row_text(pay, "currency"), currency, row_text(inv, "id"))));
	row_set_text(pay, "currency", currency);
}

/*
 * attach_payment_intent
 *		Rule A on a new invoice_payments row of type payment_intent.  Returns
 *		false when the PaymentIntent is already attached to this invoice (the
 *		insert is then skipped: attaching again changes nothing).
 */
static bool
attach_payment_intent(Row *pay, TimestampTz now)
{
	char	   *invoice = row_text(pay, "invoice");
	char	   *piid = row_text(pay, "payment_intent");
	Row		   *pi;
	Row		   *inv;
	char	   *attached;
	char	   *pistatus;
	char	   *picustomer;
	int64		amount;
	int64		remaining;
	bool		claimed;

	if (piid == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("payment_intent must not be null")));
	pi = claim_payment_intent(piid, invoice);
	claimed = (pi != NULL);
	if (!claimed)
		pi = lock_payment_intent(piid);
	inv = lock_invoice(invoice, false);

	attached = row_text(pi, "invoice");
	if (attached != NULL && strcmp(attached, invoice) == 0)
		return false;
	if (attached != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("payment_intent \"%s\" is already attached to invoice \"%s\"",
						piid, attached),
				 errhint("A PaymentIntent pays one invoice.")));
	if (!claimed)
	{
		/*
		 * Unattached after all: at READ COMMITTED it was committed between
		 * the claim and the locking read.  It is locked now, so the claim
		 * matches it.
		 */
		if (claim_payment_intent(piid, invoice) == NULL)
			elog(ERROR, "invoicing: payment_intent \"%s\" is unattached but could not be claimed",
				 piid);
	}

	require_collectible(inv, "attach a payment to");

	pistatus = row_enum(pi, "status");
	if (strcmp(pistatus, "canceled") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot attach payment_intent \"%s\" to invoice \"%s\": it is canceled",
						piid, invoice)));

	if (strcmp(row_text(pi, "currency"), row_text(inv, "currency")) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot attach payment_intent \"%s\" to invoice \"%s\": currency %s does not match the invoice's %s",
						piid, invoice, row_text(pi, "currency"), row_text(inv, "currency"))));
	picustomer = row_text(pi, "customer");
	if (picustomer == NULL || strcmp(picustomer, row_text(inv, "customer")) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot attach payment_intent \"%s\" to invoice \"%s\": its customer %s is not the invoice's customer %s",
						piid, invoice, picustomer ? picustomer : "(none)",
						row_text(inv, "customer"))));

	amount = row_int64(pi, "amount");
	remaining = row_int64(inv, "amount_remaining");
	if (amount > remaining)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot attach payment_intent \"%s\" to invoice \"%s\": its amount " INT64_FORMAT " exceeds the amount remaining " INT64_FORMAT,
						piid, invoice, amount, remaining)));

	if (!row_isnull(pay, "amount_requested") && row_int64(pay, "amount_requested") != amount)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("amount_requested of a PaymentIntent payment is the PaymentIntent's amount " INT64_FORMAT,
						amount)));
	row_set_int64(pay, "amount_requested", amount);
	set_payment_currency(pay, inv);

	if (strcmp(pistatus, "succeeded") == 0)
	{
		int64		received = row_int64(pi, "amount_received");
		int64		paid = received < amount ? received : amount;

		row_set_enum(pay, "status", "paid");
		row_set_int64(pay, "amount_paid", paid);
		row_set(pay, "paid_at", TimestampTzGetDatum(now), false);
		emit_invoice_payment_event(pay);
		credit_invoice(inv, paid, 0, 1, true);
	}
	else
		credit_invoice(inv, 0, 1, 0, false);
	return true;
}

/*
 * attach_payment_record
 *		Rule O on a new invoice_payments row of type payment_record: paid at
 *		once, for an amount up to what remains.
 */
static void
attach_payment_record(Row *pay, TimestampTz now)
{
	char	   *invoice = row_text(pay, "invoice");
	Row		   *inv = lock_invoice(invoice, false);
	int64		amount;
	int64		remaining;

	require_collectible(inv, "pay");
	if (!row_isnull(pay, "payment_intent"))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a payment_record payment cannot name a payment_intent")));
	if (row_isnull(pay, "amount_requested"))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("an out-of-band payment of invoice \"%s\" needs an amount", invoice)));
	amount = row_int64(pay, "amount_requested");
	remaining = row_int64(inv, "amount_remaining");
	if (amount <= 0 || amount > remaining)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid out-of-band payment amount " INT64_FORMAT " for invoice \"%s\"",
						amount, invoice),
				 errdetail("The amount must be above 0 and at most the amount remaining " INT64_FORMAT ".",
						   remaining)));
	if (row_isnull(pay, "payment_record"))
		row_set_text(pay, "payment_record", generate_id("prec_"));
	set_payment_currency(pay, inv);
	row_set_enum(pay, "status", "paid");
	row_set_int64(pay, "amount_paid", amount);
	row_set(pay, "paid_at", TimestampTzGetDatum(now), false);
	emit_invoice_payment_event(pay);
	credit_invoice(inv, amount, 0, 1, false);
}

/*
 * invoice_payment_insert
 */
static HeapTuple
invoice_payment_insert(TriggerData *td)
{
	Row			pay;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	char	   *type;
	HeapTuple	result = NULL;

	row_from_tuple(&pay, td->tg_relation->rd_att, td->tg_trigtuple);
	check_id(&pay, "inpay_", "invoice payment");
	if (!inv_internal_write())
	{
		if (strcmp(row_enum(&pay, "status"), "open") != 0 ||
			!row_isnull(&pay, "amount_paid") || !row_isnull(&pay, "paid_at") ||
			!row_isnull(&pay, "canceled_at"))
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("the status, amount_paid, paid_at and canceled_at of invoice payments are maintained by invoicing")));
		if (DatumGetBool(row_get(&pay, "is_default")))
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("invoicing creates no default payments: is_default must be false")));
		if (row_has(&pay, "amount_refunded") && row_int64(&pay, "amount_refunded") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("column \"amount_refunded\" of invoice payments is maintained by invoicing and cannot be written")));
	}

	inv_connect();
	type = row_enum(&pay, "payment_type");
	if (strcmp(type, "payment_intent") == 0)
	{
		if (row_isnull(&pay, "payment_intent"))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a payment of type payment_intent needs a payment_intent")));
		if (!row_isnull(&pay, "payment_record"))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a payment of type payment_intent cannot name a payment_record")));
		if (attach_payment_intent(&pay, now))
			result = (HeapTuple) 1;
	}
	else
	{
		attach_payment_record(&pay, now);
		result = (HeapTuple) 1;
	}
	inv_finish();

	if (result == NULL)
		return NULL;			/* already attached: nothing to insert */

	/* insertion order, drawn under the invoice lock ("newest first") */
	row_set_int64(&pay, "seq", next_seq("invoice_payments_seq"));

	return row_to_tuple(&pay);
}

PG_FUNCTION_INFO_V1(invoicing_invoice_payments_trigger);

/*
 * invoice_payments trigger (BEFORE INSERT OR UPDATE OR DELETE)
 *
 * An insert is an attach (rule A) or an out-of-band payment (rule O).
 * Status and amounts change only through the PaymentIntent (rule P);
 * other writers may change the reference only.  Payments are never deleted.
 */
Datum
invoicing_invoice_payments_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = trigger_data(fcinfo, "invoice_payments_trigger");
	TupleDesc	desc = td->tg_relation->rd_att;
	Row			oldrow;
	Row			newrow;

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		return PointerGetDatum(invoice_payment_insert(td));

	row_from_tuple(&oldrow, desc, td->tg_trigtuple);
	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("invoice payment \"%s\" cannot be deleted", row_text(&oldrow, "id")),
				 errhint("Cancel its PaymentIntent to cancel an open payment.")));

	row_from_tuple(&newrow, desc, td->tg_newtuple);
	{
		static const char *const allowed[] = {"reference", NULL};

		refuse_changes_except(&oldrow, &newrow, allowed, "invoice payment",
							  row_text(&oldrow, "id"));
	}
	return PointerGetDatum(td->tg_newtuple);
}

/*
 * settle_payments
 *		Rule P's effect on invoices: the open payments of a PaymentIntent that
 *		succeeded are credited, those of one that was canceled are canceled.
 *		Caller is connected to SPI and holds the PaymentIntent's row lock.
 */
static void
settle_payments(const char *piid, bool succeeded, int64 received, TimestampTz now)
{
	static SPIPlanPtr pay_plan = NULL;
	static SPIPlanPtr cancel_plan = NULL;
	Oid			argtypes[3] = {TEXTOID, INT8OID, TIMESTAMPTZOID};
	Datum		values[3];
	int			n;
	int			i;
	Row		  **pays;

	values[0] = CStringGetTextDatum(piid);
	values[1] = Int64GetDatum(received);
	values[2] = TimestampTzGetDatum(now);
	if (succeeded)
		inv_prepare(&pay_plan,
					"UPDATE " INV_SCHEMA ".invoice_payments"
					" SET status = 'paid', amount_paid = LEAST(amount_requested, $2),"
					" paid_at = $3"
					" WHERE payment_intent" EQ "$1 AND status" EQ "'open'"
					" RETURNING *",
					3, argtypes);
	else
		inv_prepare(&cancel_plan,
					"UPDATE " INV_SCHEMA ".invoice_payments"
					" SET status = 'canceled', canceled_at = $3"
					" WHERE payment_intent" EQ "$1 AND status" EQ "'open'"
					" RETURNING *",
					3, argtypes);
	inv_exec_internal(succeeded ? pay_plan : cancel_plan, values, NULL);
	n = (int) SPI_processed;
	pays = palloc(sizeof(Row *) * (n + 1));
	for (i = 0; i < n; i++)
		pays[i] = spi_row(i);

	/* then, payment by payment: its event, then its invoice */
	for (i = 0; i < n; i++)
	{
		char	   *invoice = row_text(pays[i], "invoice");

		if (succeeded)
		{
			int64		paid = row_int64(pays[i], "amount_paid");

			emit_invoice_payment_event(pays[i]);
			add_to_invoice_payments(invoice, paid, -1, 1, paid);
		}
		else
			add_to_invoice_payments(invoice, 0, -1, 0, 0);
	}
}

/*
 * is_final
 *		succeeded and canceled are final PaymentIntent statuses.
 */
static bool
is_final(const char *status)
{
	return strcmp(status, "succeeded") == 0 || strcmp(status, "canceled") == 0;
}

/*
 * check_received
 *		amount_received: the amount on success when none (or 0) is reported,
 *		never above the amount; zero before success.
 */
static void
check_received(Row *pi)
{
	char	   *status = row_enum(pi, "status");
	int64		amount = row_int64(pi, "amount");
	int64		received = row_int64(pi, "amount_received");

	if (strcmp(status, "succeeded") == 0)
	{
		if (received == 0)
			row_set_int64(pi, "amount_received", amount);
		else if (received < 0 || received > amount)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid amount_received " INT64_FORMAT " for payment_intent \"%s\"",
							received, row_text(pi, "id")),
					 errdetail("It must be between 1 and the amount " INT64_FORMAT ".", amount)));
	}
	else if (received != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid amount_received " INT64_FORMAT " for payment_intent \"%s\" with status %s",
						received, row_text(pi, "id"), status),
				 errhint("amount_received is reported with status succeeded only.")));
}

/*
 * payment_intent_insert
 */
static HeapTuple
payment_intent_insert(TriggerData *td)
{
	Row			pi;
	int64		amount;

	row_from_tuple(&pi, td->tg_relation->rd_att, td->tg_trigtuple);
	check_id(&pi, "pi_", "payment_intent");
	check_currency(row_text(&pi, "currency"));
	check_metadata(NULL, &pi, "payment_intent");
	amount = row_int64(&pi, "amount");
	if (amount <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid amount " INT64_FORMAT " for payment_intent \"%s\"",
						amount, row_text(&pi, "id")),
				 errhint("The amount must be above 0.")));
	if (!inv_internal_write() && !row_isnull(&pi, "invoice"))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("column \"invoice\" of payment_intents is maintained by invoicing"),
				 errhint("Attach it with invoicing.attach_payment().")));
	check_received(&pi);
	if (!row_isnull(&pi, "customer"))
	{
		inv_connect();
		require_customer(row_text(&pi, "customer"));
		inv_finish();
	}
	return row_to_tuple(&pi);
}

/*
 * payment_intent_update
 *		Rule P: final statuses stay final (a redelivered identical report is
 *		accepted); success credits and cancellation cancels the open payments.
 */
static HeapTuple
payment_intent_update(TriggerData *td)
{
	TupleDesc	desc = td->tg_relation->rd_att;
	Row			oldrow;
	Row			newrow;
	char	   *id;
	char	   *from;
	char	   *to;

	row_from_tuple(&oldrow, desc, td->tg_trigtuple);
	row_from_tuple(&newrow, desc, td->tg_newtuple);
	if (inv_internal_write())
		return td->tg_newtuple;

	id = row_text(&oldrow, "id");
	{
		static const char *const fixed[] = {"invoice", NULL};

		refuse_derived_change(&oldrow, &newrow, fixed, "payment_intent", id);
	}
	if (!row_same(&oldrow, &newrow, "id") || !row_same(&oldrow, &newrow, "customer") ||
		!row_same(&oldrow, &newrow, "currency") || !row_same(&oldrow, &newrow, "amount") ||
		!row_same(&oldrow, &newrow, "created"))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the id, customer, currency, amount and creation time of payment_intent \"%s\" cannot be changed",
						id)));

	check_metadata(&oldrow, &newrow, "payment_intent");
	from = row_enum(&oldrow, "status");
	to = row_enum(&newrow, "status");
	if (is_final(from))
	{
		if (strcmp(from, to) == 0 &&
			(row_same(&oldrow, &newrow, "amount_received") ||
			 (strcmp(to, "succeeded") == 0 && row_int64(&newrow, "amount_received") == 0)))
			return td->tg_trigtuple;	/* a redelivered report: nothing changes */
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot change payment_intent \"%s\": its status %s is final", id, from),
				 errdetail("Reported: status %s, amount_received " INT64_FORMAT ".",
						   to, row_int64(&newrow, "amount_received"))));
	}

	check_received(&newrow);
	if (is_final(to))
	{
		inv_connect();
		settle_payments(id, strcmp(to, "succeeded") == 0,
						row_int64(&newrow, "amount_received"),
						GetCurrentTransactionStartTimestamp());
		inv_finish();
	}
	return row_to_tuple(&newrow);
}

PG_FUNCTION_INFO_V1(invoicing_payment_intents_trigger);

/*
 * payment_intents trigger (BEFORE INSERT OR UPDATE OR DELETE)
 */
Datum
invoicing_payment_intents_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = trigger_data(fcinfo, "payment_intents_trigger");
	Row			oldrow;

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		return PointerGetDatum(payment_intent_insert(td));
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		return PointerGetDatum(payment_intent_update(td));

	row_from_tuple(&oldrow, td->tg_relation->rd_att, td->tg_trigtuple);
	if (!row_isnull(&oldrow, "invoice"))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot delete payment_intent \"%s\": it is attached to invoice \"%s\"",
						row_text(&oldrow, "id"), row_text(&oldrow, "invoice"))));
	return PointerGetDatum(td->tg_trigtuple);
}

PG_FUNCTION_INFO_V1(invoicing_attach_payment);

/*
 * invoicing.attach_payment(invoice text, payment_intent text) returns jsonb
 *
 * Rule A.  The insert is the attach: the invoice_payments trigger checks and
 * applies everything, so this function and a direct INSERT behave the same.
 * Returns the invoice with its payments expanded.
 */
Datum
invoicing_attach_payment(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	char	   *invoice;

	require_arg(fcinfo, 0, "invoice");
	require_arg(fcinfo, 1, "payment_intent");
	invoice = text_to_cstring(PG_GETARG_TEXT_PP(0));

	inv_connect();
	inv_prepare(&plan,
				"INSERT INTO " INV_SCHEMA ".invoice_payments (invoice, payment_type, payment_intent)"
				" VALUES ($1, 'payment_intent', $2)",
				2, argtypes);
	values[0] = PG_GETARG_DATUM(0);
	values[1] = PG_GETARG_DATUM(1);
	inv_exec(plan, values, NULL, false, 0);
	inv_finish();

	PG_RETURN_DATUM(invoice_jsonb(invoice, true, true));
}

PG_FUNCTION_INFO_V1(invoicing_create_payment_intent);

/*
 * invoicing.create_payment_intent(customer text, currency text, amount bigint,
 *		status text, id text) returns text
 *
 * Records a PaymentIntent as the processor reports it.
 */
Datum
invoicing_create_payment_intent(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[5] = {TEXTOID, TEXTOID, INT8OID, TEXTOID, TEXTOID};
	Datum		values[5];
	char		nulls[5];

	require_arg(fcinfo, 1, "currency");
	require_arg(fcinfo, 2, "amount");
	check_enum_arg("payment_intent_status", arg_text(fcinfo, 3, "status"), "status");
	args_to_params(fcinfo, 5, values, nulls);
	PG_RETURN_TEXT_P(cstring_to_text(exec_returning_id(&plan,
													   "INSERT INTO " INV_SCHEMA ".payment_intents (customer, currency, amount, status, id)"
													   " VALUES ($1, $2, $3, $4::" INV_SCHEMA ".payment_intent_status, $5)"
													   " RETURNING id",
													   5, argtypes, values, nulls)));
}

PG_FUNCTION_INFO_V1(invoicing_update_payment_intent);

/*
 * invoicing.update_payment_intent(payment_intent text, status text,
 *		amount_received bigint) returns jsonb
 *
 * A status change as the processor reports it (rule P, in the trigger).
 */
Datum
invoicing_update_payment_intent(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[3] = {TEXTOID, TEXTOID, INT8OID};
	Datum		values[3];
	char		nulls[3];
	char	   *pi = arg_text(fcinfo, 0, "payment_intent");
	Row		   *row;

	check_enum_arg("payment_intent_status", arg_text(fcinfo, 1, "status"), "status");
	args_to_params(fcinfo, 3, values, nulls);
	row = exec_returning_row(&plan,
							 "UPDATE " INV_SCHEMA ".payment_intents"
							 " SET status = $2::" INV_SCHEMA ".payment_intent_status,"
							 " amount_received = COALESCE($3, amount_received)"
							 " WHERE id" EQ "$1 RETURNING *",
							 3, argtypes, values, nulls);
	if (row == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no such payment_intent: \"%s\"", pi)));
	PG_RETURN_DATUM(row_jsonb(OBJ_PAYMENT_INTENT, row));
}

/*
 * insert_payment_record
 *		An out-of-band payment of the invoice, as any writer would insert it
 *		(rule O, in the trigger).
 */
static void
insert_payment_record(Datum invoice, Datum amount, Datum reference, bool no_reference)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[3] = {TEXTOID, INT8OID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = "   ";

	values[0] = invoice;
	values[1] = amount;
	values[2] = reference;
	nulls[2] = no_reference ? 'n' : ' ';
	inv_connect();
	inv_prepare(&plan,
				"INSERT INTO " INV_SCHEMA ".invoice_payments"
				" (invoice, payment_type, amount_requested, reference)"
				" VALUES ($1, 'payment_record', $2, $3)",
				3, argtypes);
	inv_exec(plan, values, nulls, false, 0);
	inv_finish();
}

PG_FUNCTION_INFO_V1(invoicing_attach_out_of_band_payment);

/*
 * invoicing.attach_out_of_band_payment(invoice text, amount bigint,
 *		reference text) returns jsonb
 *
 * Returns the invoice with its payments expanded.
 */
Datum
invoicing_attach_out_of_band_payment(PG_FUNCTION_ARGS)
{
	char	   *invoice = arg_text(fcinfo, 0, "invoice");

	require_arg(fcinfo, 1, "amount");
	insert_payment_record(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1),
						  PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2),
						  PG_ARGISNULL(2));
	PG_RETURN_DATUM(invoice_jsonb(invoice, true, true));
}

PG_FUNCTION_INFO_V1(invoicing_pay_invoice);

/*
 * invoicing.pay_invoice(invoice text) returns jsonb
 *
 * Pays the whole amount_remaining out of band (rule O).  Returns the invoice
 * with its payments expanded.
 */
Datum
invoicing_pay_invoice(PG_FUNCTION_ARGS)
{
	char	   *invoice = arg_text(fcinfo, 0, "invoice");
	Row		   *inv;
	char	   *status;
	int64		remaining;

	inv_connect();
	inv = lock_invoice(invoice, false);
	inv_finish();
	status = row_enum(inv, "status");
	remaining = row_int64(inv, "amount_remaining");
	if ((strcmp(status, "open") != 0 && strcmp(status, "uncollectible") != 0) ||
		remaining <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot pay invoice \"%s\": it is %s with amount_remaining " INT64_FORMAT,
						invoice, status, remaining),
				 errhint("Only an open or uncollectible invoice with an amount remaining can be paid.")));
	insert_payment_record(CStringGetTextDatum(invoice), Int64GetDatum(remaining),
						  (Datum) 0, true);
	PG_RETURN_DATUM(invoice_jsonb(invoice, true, true));
}
