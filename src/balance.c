/*-------------------------------------------------------------------------
 *
 * balance.c
 *		Customer balance transactions and balances (SPEC 2, invariant 8).
 *
 * A transaction's BEFORE INSERT trigger locks the customer's balance row in
 * its currency, adds the amount (checked) and stamps the transaction with
 * the running balance.  The balance row is the serialization point: every
 * change of a customer's balance goes through it, and at REPEATABLE READ or
 * SERIALIZABLE a concurrent change of it is a serialization failure rather
 * than a lost update.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "invoicing.h"

/*
 * lock_customer_balance
 *		Lock the customer's balance in a currency, creating it at 0, and
 *		return it.  Caller is connected to SPI.
 */
int64
lock_customer_balance(const char *customer, const char *currency)
{
	static SPIPlanPtr ins = NULL;
	static SPIPlanPtr sel = NULL;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	bool		isnull;
	Datum		d;

	values[0] = CStringGetTextDatum(customer);
	values[1] = CStringGetTextDatum(currency);

	inv_prepare(&sel,
				"SELECT balance FROM " INV_SCHEMA ".customer_balances"
				" WHERE customer" EQ "$1 AND currency" EQ "$2 FOR UPDATE",
				2, argtypes);
	inv_exec(sel, values, NULL, false, 1);
	if (SPI_processed == 0)
	{
		inv_prepare(&ins,
					"INSERT INTO " INV_SCHEMA ".customer_balances (customer, currency, balance)"
					" VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
					2, argtypes);
		inv_exec_internal(ins, values, NULL);
		inv_exec(sel, values, NULL, false, 1);
		if (SPI_processed == 0)
			elog(ERROR, "invoicing: balance of customer \"%s\" in %s vanished",
				 customer, currency);
	}
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetInt64(d);
}

/*
 * insert_balance_transaction
 *		Record a balance transaction of the extension's own (its trigger
 *		applies it to the balance).  Caller is connected to SPI.
 */
void
insert_balance_transaction(const char *customer, const char *currency,
						   int64 amount, const char *type,
						   const char *invoice, const char *credit_note,
						   const char *description)
{
	insert_balance_transaction_id(NULL, customer, currency, amount, type, invoice,
								  credit_note, description);
}

/*
 * insert_balance_transaction_id
 *		The same, with an id chosen by the caller (NULL: generated).
 */
void
insert_balance_transaction_id(const char *id, const char *customer,
							  const char *currency, int64 amount,
							  const char *type, const char *invoice,
							  const char *credit_note, const char *description)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[8] = {TEXTOID, TEXTOID, INT8OID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID};
	Datum		values[8];
	char		nulls[8] = "        ";

	inv_prepare(&plan,
				"INSERT INTO " INV_SCHEMA ".customer_balance_transactions"
				" (customer, currency, amount, type, invoice, credit_note, description, id)"
				" VALUES ($1, $2, $3, $4::" INV_SCHEMA ".balance_transaction_type, $5, $6, $7, $8)",
				8, argtypes);
	values[7] = text_datum(id);
	nulls[7] = id ? ' ' : 'n';
	values[0] = CStringGetTextDatum(customer);
	values[1] = CStringGetTextDatum(currency);
	values[2] = Int64GetDatum(amount);
	values[3] = CStringGetTextDatum(type);
	values[4] = text_datum(invoice);
	nulls[4] = invoice ? ' ' : 'n';
	values[5] = text_datum(credit_note);
	nulls[5] = credit_note ? ' ' : 'n';
	values[6] = text_datum(description);
	nulls[6] = description ? ' ' : 'n';
	inv_exec_internal(plan, values, nulls);
}

/*
 * apply_to_balance
 *		Add amount to the locked balance and return the new balance.
 */
static int64
apply_to_balance(const char *customer, const char *currency, int64 amount)
{
	static SPIPlanPtr upd = NULL;
	Oid			argtypes[3] = {TEXTOID, TEXTOID, INT8OID};
	Datum		values[3];
	int64		balance = lock_customer_balance(customer, currency);
	int64		ending = add_amounts(balance, amount);

	inv_prepare(&upd,
				"UPDATE " INV_SCHEMA ".customer_balances SET balance = $3"
				" WHERE customer" EQ "$1 AND currency" EQ "$2",
				3, argtypes);
	values[0] = CStringGetTextDatum(customer);
	values[1] = CStringGetTextDatum(currency);
	values[2] = Int64GetDatum(ending);
	inv_exec_internal(upd, values, NULL);
	return ending;
}

/*
 * next_transaction_seq
 *		A transaction's place in its customer's history, drawn while the
 *		balance row is locked, so that seq order is the order in which the
 *		transactions were applied to the balance (and ending_balance is the
 *		running balance in seq order, invariant 8), whatever order the rows
 *		were first formed in by concurrent writers.
 */
static int64
next_transaction_seq(void)
{
	return next_seq("customer_balance_transactions_seq");
}

PG_FUNCTION_INFO_V1(invoicing_balance_transactions_trigger);

/*
 * customer_balance_transactions trigger (BEFORE INSERT OR UPDATE OR DELETE)
 *
 * Insert: checks the id, currency, customer and amount, and applies the
 * amount to the customer's balance.  Other writers than the extension may
 * only record 'adjustment' transactions.  Transactions are never deleted and
 * only their description and metadata may change.
 */
Datum
invoicing_balance_transactions_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = trigger_data(fcinfo, "balance_transactions_trigger");
	TupleDesc	desc = td->tg_relation->rd_att;
	Row			newrow;
	Row			oldrow;

	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		row_from_tuple(&oldrow, desc, td->tg_trigtuple);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("customer balance transaction \"%s\" cannot be deleted",
						row_text(&oldrow, "id")),
				 errhint("Record a new adjustment to change a balance.")));
	}

	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		static const char *const fixed[] = {
			"id", "customer", "currency", "amount", "ending_balance", "type",
			"invoice", "credit_note", "created", "seq", NULL
		};

		row_from_tuple(&oldrow, desc, td->tg_trigtuple);
		row_from_tuple(&newrow, desc, td->tg_newtuple);
		refuse_derived_change(&oldrow, &newrow, fixed,
							  "customer balance transaction", row_text(&oldrow, "id"));
		check_metadata(&oldrow, &newrow, "customer balance transaction");
		return PointerGetDatum(td->tg_newtuple);
	}

	/* INSERT */
	row_from_tuple(&newrow, desc, td->tg_trigtuple);
	check_id(&newrow, "cbtxn_", "customer balance transaction");
	check_metadata(NULL, &newrow, "customer balance transaction");
	{
		char	   *customer = row_text(&newrow, "customer");
		char	   *currency = row_text(&newrow, "currency");
		char	   *type = row_enum(&newrow, "type");
		int64		amount = row_int64(&newrow, "amount");
		int64		ending;

		check_currency(currency);
		if (!inv_internal_write())
		{
			if (strcmp(type, "adjustment") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_CHECK_VIOLATION),
						 errmsg("customer balance transactions of type \"%s\" are recorded by invoicing only",
								type),
						 errhint("Insert an \"adjustment\" to change a customer's balance.")));
			if (!row_isnull(&newrow, "ending_balance"))
				ereport(ERROR,
						(errcode(ERRCODE_CHECK_VIOLATION),
						 errmsg("column \"ending_balance\" of customer balance transactions is maintained by invoicing and cannot be written")));
			if (!row_isnull(&newrow, "invoice") || !row_isnull(&newrow, "credit_note"))
				ereport(ERROR,
						(errcode(ERRCODE_CHECK_VIOLATION),
						 errmsg("an adjustment cannot name an invoice or a credit note")));
			if (amount == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid amount 0 for a balance adjustment of customer \"%s\"",
								customer ? customer : ""),
						 errhint("A negative amount credits the customer, a positive one debits.")));
		}

		inv_connect();
		if (!inv_internal_write())
			require_customer(customer);	/* the extension's own name one */
		ending = apply_to_balance(customer, currency, amount);
		row_set_int64(&newrow, "seq", next_transaction_seq());
		inv_finish();

		row_set_int64(&newrow, "ending_balance", ending);
	}
	return PointerGetDatum(row_to_tuple(&newrow));
}

PG_FUNCTION_INFO_V1(invoicing_balances_trigger);

/*
 * customer_balances trigger (BEFORE INSERT OR UPDATE OR DELETE)
 *		Balances are derived (invariant 8): written by the extension only.
 */
Datum
invoicing_balances_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = trigger_data(fcinfo, "balances_trigger");

	if (!inv_internal_write())
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("customer balances are maintained by invoicing and cannot be written"),
				 errhint("Record a customer balance transaction instead, for example with invoicing.adjust_customer_balance().")));
	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
		return PointerGetDatum(td->tg_trigtuple);
	return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(td->tg_event) ?
						   td->tg_newtuple : td->tg_trigtuple);
}

PG_FUNCTION_INFO_V1(invoicing_adjust_customer_balance);

/*
 * invoicing.adjust_customer_balance(customer text, currency text,
 *		amount bigint, description text) returns jsonb
 *
 * An 'adjustment' transaction; its trigger applies it to the balance.
 */
Datum
invoicing_adjust_customer_balance(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[4] = {TEXTOID, TEXTOID, INT8OID, TEXTOID};
	Datum		values[4];
	char		nulls[4];

	require_arg(fcinfo, 0, "customer");
	require_arg(fcinfo, 1, "currency");
	require_arg(fcinfo, 2, "amount");
	args_to_params(fcinfo, 4, values, nulls);
	PG_RETURN_DATUM(row_jsonb(OBJ_BALANCE_TRANSACTION,
							  exec_returning_row(&plan,
												 "INSERT INTO " INV_SCHEMA ".customer_balance_transactions"
												 " (customer, currency, amount, type, description)"
												 " VALUES ($1, $2, $3, 'adjustment', $4) RETURNING *",
												 4, argtypes, values, nulls)));
}
